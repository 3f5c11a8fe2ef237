"""Size of each Lambda artifact that ``make package`` built into ``dist/``.

Reads every ``dist/**/*.zip`` (zipped size on disk and unzipped size from the zip's directory);
a manifest (``dist/manifest.json`` or ``dist/*manifest*.json``) is used, when present, to name
artifacts whose zip is not in ``dist/``. Lambda's limits for a zip upload: 50 MB zipped
(direct upload) and 250 MB unzipped including layers. Without artifacts the figure says so.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from benchmarks._measure import ROOT

DIST = ROOT / "dist"
ZIPPED_LIMIT_MB = 50
UNZIPPED_LIMIT_MB = 250
_MB = 1024 * 1024


def _zip_sizes(path: Path) -> tuple[float, float]:
    with zipfile.ZipFile(path) as archive:
        unzipped = sum(info.file_size for info in archive.infolist())
    return path.stat().st_size / _MB, unzipped / _MB


def _manifest_entries(dist: Path) -> dict[str, dict[str, Any]]:
    """Artifact name → manifest entry, for the common manifest shapes (a list of entries
    or a mapping of name to entry, optionally under an ``artifacts`` key)."""
    entries: dict[str, dict[str, Any]] = {}
    for path in sorted(dist.glob("*manifest*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and "artifacts" in data:
            data = data["artifacts"]
        items = data.items() if isinstance(data, dict) else (
            (str(e.get("name") or e.get("function") or e.get("path") or i), e)
            for i, e in enumerate(data) if isinstance(e, dict))
        for name, entry in items:
            if isinstance(entry, dict):
                entries[Path(str(name)).stem.removesuffix(".zip")] = entry
    return entries


def _size_mb(entry: dict[str, Any]) -> float | None:
    for key in ("size_bytes", "bytes", "size", "zip_bytes", "zipped_bytes"):
        if isinstance(entry.get(key), int | float):
            return float(entry[key]) / _MB
    return None


def measure(dist: Path = DIST) -> dict[str, object]:
    """Figures for every artifact under ``dist`` (pure file inspection, no build)."""
    zips = sorted(dist.rglob("*.zip")) if dist.is_dir() else []
    manifest = _manifest_entries(dist) if dist.is_dir() else {}
    if not zips and not manifest:
        return {"artifacts": "not built — run make package"}
    figures: dict[str, object] = {}
    targets: dict[str, str] = {}
    for path in zips:
        zipped, unzipped = _zip_sizes(path)
        name = path.stem
        figures[f"{name}_zip_mb"] = round(zipped, 2)
        figures[f"{name}_unzipped_mb"] = round(unzipped, 2)
        targets[f"{name}_zip_mb"] = f"<= {ZIPPED_LIMIT_MB}"
        targets[f"{name}_unzipped_mb"] = f"<= {UNZIPPED_LIMIT_MB}"
    for name, entry in manifest.items():
        size = _size_mb(entry)
        if f"{name}_zip_mb" not in figures and size is not None:
            figures[f"{name}_zip_mb"] = round(size, 2)
            targets[f"{name}_zip_mb"] = f"<= {ZIPPED_LIMIT_MB}"
    figures["_targets"] = targets
    return figures


def run() -> dict[str, object]:
    return measure()
