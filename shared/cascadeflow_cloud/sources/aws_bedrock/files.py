"""Response files (``aws ce get-cost-and-usage`` output) → cost rows: an Arrow fast path for
the common shape, the general ``parse_pages`` for the rest (both give the same rows)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from cascadeflow_cloud.sources.aws_bedrock.names import BEDROCK_SERVICE, MARKETPLACE_SUFFIX
from cascadeflow_cloud.sources.aws_bedrock.parse import (
    BILLED_METRICS,
    EFFECTIVE_METRICS,
    _period_days,
    finish_raw,
    page_problem,
    parse_pages,
)
from cascadeflow_cloud.sources.base import Parsed, Pull, SourceError
from cascadeflow_cloud.sources.refusals import Refusals, load_json, starts_with_object


def _page_schema() -> Any:
    import pyarrow as pa

    amount = pa.struct([("Amount", pa.string()), ("Unit", pa.string())])
    metrics = pa.struct([(m, amount) for m in (*BILLED_METRICS, *EFFECTIVE_METRICS,
                                               "UsageQuantity")])
    return pa.schema([
        ("x_Dimensions", pa.struct([("SERVICE", pa.string()), ("LINKED_ACCOUNT", pa.string())])),
        ("GroupDefinitions", pa.list_(pa.struct([("Type", pa.string()), ("Key", pa.string())]))),
        ("ResultsByTime", pa.list_(pa.struct([
            ("TimePeriod", pa.struct([("Start", pa.string()), ("End", pa.string())])),
            ("Estimated", pa.bool_()),
            ("Groups", pa.list_(pa.struct([("Keys", pa.list_(pa.string())),
                                           ("Metrics", metrics)]))),
        ]))),
    ])


def read_file_arrow(path: str | Path) -> tuple[Any, list[date], int] | None:
    """Read one response file (compact or pretty-printed) straight into raw Arrow columns.

    Returns None when the file needs the general parser (a list of responses, TAG groups,
    results without groups, keys missing), which then reads it the slow, general way.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.json as pj

    if not starts_with_object(Path(path)):
        return None  # a list of responses, or not a response: the general parser says which
    size = Path(path).stat().st_size
    try:
        table = pj.read_json(path, read_options=pj.ReadOptions(block_size=size + 1024),
                             parse_options=pj.ParseOptions(
                                 explicit_schema=_page_schema(), newlines_in_values=True,
                                 unexpected_field_behavior="ignore"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.column("x_Dimensions").null_count != table.num_rows:
        return None  # a per-service detail page: the general parser applies x_Dimensions
    defs = {tuple((d["Type"], d["Key"]) for d in (page or []))
            for page in table.column("GroupDefinitions").to_pylist()}
    if len(defs) != 1:
        return None
    kinds = next(iter(defs))
    if any(kind != "DIMENSION" for kind, _ in kinds) or not kinds:
        return None
    results = pc.list_flatten(table.column("ResultsByTime"))
    if len(results) == 0:
        return None
    period = pc.struct_field(results, "TimePeriod")
    starts, ends = pc.struct_field(period, "Start"), pc.struct_field(period, "End")
    covered = {d for a, b in set(zip(starts.to_pylist(), ends.to_pylist(), strict=True))
               for d in _period_days(a, b)}
    group_lists = pc.struct_field(results, "Groups")
    # with GroupBy, a day without spend has no groups (and an empty Total): nothing to read
    groups = pc.list_flatten(group_lists)
    owner = pc.list_parent_indices(group_lists)
    keys = pc.struct_field(groups, "Keys")
    if pc.any(pc.less(pc.fill_null(pc.list_value_length(keys), 0), len(kinds))).as_py():
        return None
    n = len(groups)
    by_key = {key: pc.list_element(keys, i) for i, (_, key) in enumerate(kinds)}
    nulls = pa.nulls(n, pa.string())
    service = by_key.get("SERVICE", nulls)
    keep = pc.or_kleene(pc.is_null(service), pc.or_(pc.starts_with(service, BEDROCK_SERVICE),
                                              pc.ends_with(service, MARKETPLACE_SUFFIX)))
    metrics = pc.struct_field(groups, "Metrics")

    def metric(names: tuple[str, ...], part: str) -> Any:
        values = [pc.struct_field(pc.struct_field(metrics, m), part) for m in names]
        return pc.coalesce(*values) if len(values) > 1 else values[0]

    q_unit = metric(("UsageQuantity",), "Unit")
    raw = pa.table({
        "Start": pc.take(starts, owner), "End": pc.take(ends, owner),
        "Estimated": pc.fill_null(pc.take(pc.struct_field(results, "Estimated"), owner), False),
        "SERVICE": service, "USAGE_TYPE": by_key.get("USAGE_TYPE", nulls),
        "LINKED_ACCOUNT": by_key.get("LINKED_ACCOUNT", nulls),
        "REGION": by_key.get("REGION", nulls),
        "Amount": metric(BILLED_METRICS, "Amount"), "Unit": metric(BILLED_METRICS, "Unit"),
        "AmortizedAmount": metric(EFFECTIVE_METRICS, "Amount"),
        "UsageQuantity": metric(("UsageQuantity",), "Amount"),
        "QuantityUnit": pc.if_else(pc.equal(q_unit, "N/A"), pa.scalar(None, pa.string()),
                                   q_unit),
        "Tags": nulls,
    })
    keep = pc.fill_null(keep, False)
    ignored = n - (pc.sum(keep.cast(pa.int64())).as_py() or 0)
    return raw.filter(keep), sorted(covered), ignored


def parse_files(paths: Iterable[str | Path]) -> tuple[Parsed, list[date]]:
    """Parse response files (one snapshot). The Arrow reader handles the common shape (files
    read in parallel threads: Arrow's JSON parser releases the GIL); if any file needs the
    general parser, every file goes through it (both give the same rows)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow as pa

    files = list(paths)
    workers = min(len(files), os.cpu_count() or 1, 4)
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            fast_all = list(pool.map(read_file_arrow, files))
    else:
        fast_all = [read_file_arrow(path) for path in files]
    raws, covered, ignored = [], set(), 0
    for fast in fast_all:
        if fast is None:
            refusals = Refusals()
            pages = []
            for path, page, problem in iter_pages(files):
                if problem is not None:
                    refusals.refuse({"file": str(path)}, problem)
                else:
                    refusals.pages_read += 1
                    pages.append(page)
            refusals.check_readable("GetCostAndUsage response")
            return parse_pages(pages, refusals)
        raw, days, skipped = fast
        raws.append(raw)
        covered.update(days)
        ignored += skipped
    if not raws:
        return parse_pages([])
    return finish_raw(pa.concat_tables(raws), ignored), sorted(covered)


def read_files(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """Load response JSON files; a file may hold one response or a list of them. Raises
    ``SourceError`` at the first file or page that is not a response."""
    pages: list[dict[str, Any]] = []
    for _, page, problem in iter_pages(paths):
        if problem is not None:
            raise SourceError(problem)
        pages.append(page)
    return pages


def iter_pages(paths: Iterable[str | Path]) -> Iterator[tuple[Path, Any, str | None]]:
    """``(file, page, problem)`` for every page of the files; ``problem`` says why a file or
    page cannot be read as a response (else None)."""
    for path in map(Path, paths):
        data, problem = load_json(path)
        if problem is not None:
            yield path, None, problem
            continue
        if isinstance(data, list) and not data:
            yield path, None, f"{path}: an empty list, not a GetCostAndUsage response"
        for i, page in enumerate(data if isinstance(data, list) else [data]):
            where = f"{path}" if not isinstance(data, list) else f"{path} [{i}]"
            problem = page_problem(page)
            yield path, page, None if problem is None else f"{where}: {problem}"


def pulls_from_files(paths: Sequence[Path], scope: str | None = None) -> list[Pull]:
    """Saved ``GetCostAndUsage`` responses (one snapshot) as one pull (the registry's
    offline entry point)."""
    parsed, days = parse_files(paths)
    return [Pull(scope or "default", days, parsed)]
