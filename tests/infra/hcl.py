"""Read the Terraform tree with python-hcl2 into plain Python values (no Terraform CLI needed).

Strings lose their surrounding quotes and block markers are dropped, whatever the python-hcl2
version; expressions stay as ``${...}`` strings.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import hcl2

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
MODULES = INFRA / "modules"
ENV = INFRA / "envs" / "example"


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1]
    return value


def normalise(value: Any) -> Any:
    """Strip quotes and ``__is_block__``/comment markers recursively."""
    if isinstance(value, dict):
        return {_unquote(k): normalise(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, str):
        return _unquote(value)
    return value


def load(path: Path) -> dict[str, Any]:
    """One parsed ``.tf`` file."""
    text = path.read_text()
    try:
        options = hcl2.SerializationOptions(with_comments=False, explicit_blocks=False,
                                            strip_string_quotes=True)
        parsed = hcl2.loads(text, serialization_options=options)
    except (AttributeError, TypeError):  # python-hcl2 < 7
        parsed = hcl2.loads(text)
    result = normalise(parsed)
    assert isinstance(result, dict)
    return result


def tf_files() -> list[Path]:
    """Every Terraform file of the repository (not provider caches)."""
    return sorted(p for p in INFRA.rglob("*.tf") if ".terraform" not in p.parts)


@cache
def parsed(path: Path) -> dict[str, Any]:
    return load(path)


def blocks(directory: Path, kind: str) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every top-level ``kind`` block (resource, data, variable, output, module, locals)
    in the ``.tf`` files of one directory (not recursive)."""
    for path in sorted(directory.glob("*.tf")):
        for block in parsed(path).get(kind, []):
            yield path, block


def resources(directory: Path, rtype: str, kind: str = "resource") -> dict[str, dict[str, Any]]:
    """name => body of every ``rtype`` resource (or data source) in a directory."""
    found: dict[str, dict[str, Any]] = {}
    for _, block in blocks(directory, kind):
        for name, body in block.get(rtype, {}).items():
            found[name] = body
    return found


def locals_of(directory: Path) -> dict[str, Any]:
    """All ``locals`` of a directory merged into one mapping."""
    merged: dict[str, Any] = {}
    for _, block in blocks(directory, "locals"):
        merged.update(block)
    return merged


def modules_of(directory: Path) -> dict[str, dict[str, Any]]:
    """name => body of every module call in a directory."""
    found: dict[str, dict[str, Any]] = {}
    for _, block in blocks(directory, "module"):
        found.update(block)
    return found


def one(value: Any) -> Any:
    """Nested blocks parse as one-element lists; unwrap them."""
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value
