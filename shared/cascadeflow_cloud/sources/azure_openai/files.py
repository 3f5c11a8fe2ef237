"""Saved Query API responses on disk: the bulk DuckDB reader and the general one.

A file holds one response or a list of them; ``parse_files`` reads a snapshot's files one
scope at a time (``parse.parse_responses`` does the rows).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from cascadeflow_cloud.sources.azure_openai.parse import (
    _DATE_COLUMNS,
    COST_COLUMNS,
    _lookup,
    _parse_raws,
    _raw_columns,
    _raw_page,
    page_problem,
    scope_of,
)
from cascadeflow_cloud.sources.base import Parsed, Pull, SourceError
from cascadeflow_cloud.sources.refusals import Refusals, load_json


def _document_schema() -> Any:
    import pyarrow as pa

    return pa.schema([
        ("id", pa.string()),
        ("properties", pa.struct([
            ("columns", pa.list_(pa.struct([("name", pa.string())]))),
            ("rows", pa.list_(pa.list_(pa.string()))),
        ])),
    ])


#: Files read per DuckDB pass: bounds the nested JSON held at once (~0.8 MB per 5,000 rows).
BULK_FILES = 32


def read_files_bulk(paths: Sequence[str | Path],
                    scope: str | None = None) -> dict[str, list[Any]] | None:
    """Raw tables per scope straight from saved responses (DuckDB's JSON reader: a few times
    faster than loading each file into Python), or None when a file needs the general reader
    (a list of responses, tag columns, not a query result). Files are read ``BULK_FILES`` at
    a time."""
    files = list(paths)
    raws: dict[str, list[Any]] = {}
    for start in range(0, len(files), BULK_FILES):
        part = _read_bulk_chunk(files[start:start + BULK_FILES], scope)
        if part is None:
            return None
        for key, tables in part.items():
            raws.setdefault(key, []).extend(tables)
    return raws


def _read_bulk_chunk(paths: Sequence[str | Path],
                     scope: str | None) -> dict[str, list[Any]] | None:
    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.sources import jsonscan

    try:
        docs = jsonscan.read_documents(paths, _document_schema())
    except (ImportError, jsonscan.JsonScanError):
        return None
    props = docs.column("properties").combine_chunks()
    columns = pc.struct_field(props, "columns")
    rows = pc.struct_field(props, "rows")
    if props.null_count or columns.null_count or rows.null_count:
        return None
    # files with the same scope and columns are read as one block of rows
    blocks: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    for i, (rid, cols) in enumerate(zip(docs.column("id").to_pylist(),
                                        columns.to_pylist(), strict=True)):
        names = tuple(str(c["name"]) for c in cols)
        if _lookup(list(names), "TagKey") is not None or \
                _lookup(list(names), *COST_COLUMNS) is None or \
                _lookup(list(names), *_DATE_COLUMNS) is None:
            return None  # the general reader reads tags and explains a missing column
        key = scope or scope_of({"id": rid}) or "default"
        blocks.setdefault((key, names), []).append(i)
    raws: dict[str, list[Any]] = {}
    for (key, names), files in blocks.items():
        raws.setdefault(key, [])
        first, last = files[0], files[-1]
        picked = rows.slice(first, last - first + 1) if last - first + 1 == len(files) \
            else pc.take(rows, pa.array(files, pa.int64()))  # files in a run: no copy
        block = pc.list_flatten(picked)
        if len(block) == 0:
            continue
        width = pc.fill_null(pc.list_value_length(block), -1)
        if pc.any(pc.not_equal(width, len(names))).as_py():
            return None  # a short, long or null row: the general reader rejects it
        # row i's cell j is cells[starts[i] + j]: one take per column, no per-row lookups
        cells = pc.list_flatten(block)
        offsets = block.offsets.to_numpy().astype("int64")
        starts = offsets[:-1] - offsets[0]

        def column(idx: int, cells: Any = cells, starts: Any = starts) -> Any:
            return pc.take(cells, pa.array(starts + idx))

        raws[key].append(_raw_columns(list(names), len(block), column))
    return raws



def parse_files(paths: Iterable[str | Path],
                scope: str | None = None) -> list[tuple[str, Parsed, list[date]]]:
    """Parse saved responses (one snapshot), one result per scope (from each response's
    ``id`` unless ``scope`` is given). Pages become Arrow as they are read, so the JSON of
    only one file is in memory at a time. A file or response that is not a query result is
    refused whole and a malformed row rejected (both quarantined with their reason); when no
    file could be read at all, ``SourceError`` says why."""
    files = list(paths)
    bulk = read_files_bulk(files, scope)
    if bulk is not None:
        return [(key, *_parse_raws(tables)) for key, tables in sorted(bulk.items())]
    raws: dict[str, list[Any]] = {}
    refusals = Refusals()
    for path, page, problem in iter_pages(files):
        if problem is not None:
            refusals.refuse({"file": str(path)}, problem)
            continue
        refusals.pages_read += 1
        key = scope or scope_of(page) or "default"
        raw = _raw_page(page, refusals)
        raws.setdefault(key, [])
        if raw is not None:
            raws[key].append(raw)
    refusals.check_readable("Cost Management query result")
    out = []
    for position, (key, tables) in enumerate(sorted(raws.items())):
        parsed, span = _parse_raws(tables)
        # a refused page's scope is unknown: every scope keeps the days it may have held
        out.append((key, refusals.add_to(parsed, rows=position == 0), span))
    return out


def read_files(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """Load saved Query API responses; a file may hold one response or a list of them.
    Raises ``SourceError`` for the first file or response that is not a query result."""
    pages = []
    for _, page, problem in iter_pages(paths):
        if problem is not None:
            raise SourceError(problem)
        pages.append(page)
    return pages


def iter_files(paths: Iterable[str | Path]) -> Iterator[dict[str, Any]]:
    """Saved responses one at a time (``SourceError`` at the first that is not a result)."""
    for _, page, problem in iter_pages(paths):
        if problem is not None:
            raise SourceError(problem)
        yield page


def iter_pages(paths: Iterable[str | Path]
               ) -> Iterator[tuple[Path, dict[str, Any], str | None]]:
    """``(file, response, problem)`` for every response of the files, one file's JSON in
    memory at a time; ``problem`` says why a file or response cannot be read (else None)."""
    for path in map(Path, paths):
        data, problem = load_json(path)
        if problem is not None:
            yield path, {}, problem
            continue
        if isinstance(data, list) and not data:
            yield path, {}, f"{path}: an empty list, not a Cost Management query result"
        for i, page in enumerate(data if isinstance(data, list) else [data]):
            where = f"{path}" if not isinstance(data, list) else f"{path} [{i}]"
            problem = page_problem(page)
            yield path, page if isinstance(page, dict) else {}, \
                None if problem is None else f"{where}: {problem}"


def pulls_from_files(paths: Sequence[Path], scope: str | None = None) -> list[Pull]:
    """Saved Query API responses (one snapshot) as one pull per scope (the registry's
    offline entry point)."""
    return [Pull(key, days, parsed) for key, parsed, days in parse_files(paths, scope)]
