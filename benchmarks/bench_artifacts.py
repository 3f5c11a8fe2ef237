"""Size of each Lambda artifact that ``make package`` built into ``dist/``, and the cold import
time of each handler from its artifact.

Reads every ``dist/**/*.zip`` (zipped size on disk and unzipped size from the zip's directory);
a manifest (``dist/manifest.json`` or ``dist/*manifest*.json``) is used, when present, to name
artifacts whose zip is not in ``dist/`` and to size image artifacts (their tree). Lambda's
limits: 250 MB unzipped including layers for a zip, 10 GB for a container image. The zipped
size is reported without a target: Lambda's 50 MB zipped limit applies only to a zip uploaded
directly through the API, and ``infra/modules/function`` deploys every zip from S3
(``s3_bucket`` / ``s3_key``). Without artifacts the figure says so.

Import time: each handler the manifest lists for an artifact is imported from that artifact's
built tree (``dist/build/<artifact>``) in a clean interpreter, ``python -I -S`` with only the
tree on ``sys.path`` (as ``tests/infra/test_package.py`` runs them): the median wall time of
the import alone over several fresh interpreters (3 with ``quick``, else 7), against the
issue 9 targets in ``bench_imports.TARGET_MS``; ``..._with_deferred_imports_ms_from_...`` adds
the modules its ``handler()`` body imports (``bench_imports.deferred_imports``), which the
first invocation pays. It excludes interpreter start-up and the Lambda
runtime's own bootstrap, and the files are in the page cache (a first cold start reading them
from disk can be slower).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from benchmarks._measure import ROOT
from benchmarks._measure import quick as quick_mode
from benchmarks.bench_imports import TARGET_MS, TIMED_IMPORT, deferred_imports

DIST = ROOT / "dist"
DIRECT_UPLOAD_LIMIT_MB = 50  # not a target: the zips are deployed from S3 (see above)
UNZIPPED_LIMIT_MB = 250
IMAGE_LIMIT_MB = 10 * 1024
#: The clean interpreter's environment: no credentials, nothing reachable.
_ENV = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1", "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "POWERTOOLS_TRACE_DISABLED": "true",
        "CASCADEFLOW_STORE": "file:///nonexistent-cascadeflow-bench"}
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
        targets[f"{name}_unzipped_mb"] = f"<= {UNZIPPED_LIMIT_MB}"
    for name, entry in manifest.items():
        size = _size_mb(entry)
        if f"{name}_zip_mb" not in figures and size is not None:
            figures[f"{name}_zip_mb"] = round(size, 2)
        tree = entry.get("unzipped_bytes")
        if (entry.get("package_type") != "Image" and f"{name}_unzipped_mb" not in figures
                and isinstance(tree, int | float)):
            figures[f"{name}_unzipped_mb"] = round(float(tree) / _MB, 2)
            targets[f"{name}_unzipped_mb"] = f"<= {UNZIPPED_LIMIT_MB}"
        if entry.get("package_type") == "Image" and isinstance(tree, int | float):
            figures[f"{name}_image_tree_mb"] = round(float(tree) / _MB, 2)
            targets[f"{name}_image_tree_mb"] = f"<= {IMAGE_LIMIT_MB}"
    figures["_targets"] = targets
    return figures


def time_import(tree: Path, module: str,
                deferred: list[str] | None = None) -> tuple[float, int]:
    """Milliseconds to import ``module`` from ``tree`` alone (``python -I -S``), and how many
    modules were loaded afterwards (after ``deferred`` too, when given)."""
    ms, _, modules = _probe(tree, module, deferred or [])
    return ms, modules


def _probe(tree: Path, module: str, deferred: list[str]) -> tuple[float, float, int]:
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", TIMED_IMPORT, str(tree), module,
                           *deferred], env=_ENV, capture_output=True, text=True, timeout=300,
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"importing {module} from {tree} failed:\n{proc.stderr[-2000:]}")
    probe = json.loads(proc.stdout.strip().splitlines()[-1])
    return float(probe["ms"]), float(probe["deferred_ms"]), int(probe["modules"])


def import_times(dist: Path = DIST, repeats: int = 7) -> dict[str, object]:
    """Median import ms of every handler from its artifact's built tree (``manifest.json``
    names each artifact's tree and functions); artifacts whose tree is missing are skipped."""
    figures: dict[str, object] = {}
    targets: dict[str, str] = {}
    for artifact, entry in sorted(_manifest_entries(dist).items()) if dist.is_dir() else ():
        tree = dist / str(entry.get("tree") or f"build/{artifact}")
        functions = entry.get("present_functions") or entry.get("functions") or []
        for function in sorted(str(f) for f in functions):
            if not (tree / "functions" / f"{function}.py").exists():
                continue
            source = tree / "functions" / f"{function}.py"
            deferred = deferred_imports(function, source)
            samples = [_probe(tree, f"functions.{function}", deferred) for _ in range(repeats)]
            figure = f"{function}_import_ms_from_{artifact}"
            with_deferred = f"{function}_with_deferred_imports_ms_from_{artifact}"
            figures[figure] = round(statistics.median(s[0] for s in samples), 1)
            figures[with_deferred] = round(statistics.median(s[0] + s[1] for s in samples), 1)
            figures[f"{function}_modules_from_{artifact}"] = samples[-1][2]
            if function in TARGET_MS:
                targets[figure] = targets[with_deferred] = f"<= {TARGET_MS[function]}"
    figures["_targets"] = targets
    return figures


def run(quick: bool | None = None) -> dict[str, object]:
    if quick is None:
        quick = quick_mode()
    figures = measure()
    timed = import_times(repeats=3 if quick else 7)
    targets: dict[str, str] = {}
    for part in (figures, timed):
        extra = part.pop("_targets", None)
        if isinstance(extra, dict):
            targets.update(extra)
    return {**figures, **timed, "_targets": targets}
