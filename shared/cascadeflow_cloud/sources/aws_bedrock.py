"""AWS Bedrock billed cost from Cost Explorer ``GetCostAndUsage`` (extra ``aws``).

Daily ``UnblendedCost`` (+ ``AmortizedCost`` when configured) and ``UsageQuantity``, filtered to
``Amazon Bedrock`` *and* the Marketplace model services (``Claude … (Amazon Bedrock Edition)``,
where most Claude spend is billed). Cost Explorer allows two ``GroupBy`` keys, so a pull is a
small plan of queries (``plan_requests``): one discovery query grouped by ``SERVICE`` +
``LINKED_ACCOUNT`` finds which services (and accounts) had spend; then one query per service
with spend, filtered to that service (so the Marketplace model is known from the filter),
grouped by ``USAGE_TYPE`` + ``LINKED_ACCOUNT`` — or, with ``tag_key`` set, one query per
(service, account) filtered to both and grouped by ``USAGE_TYPE`` + ``TAG:<tag_key>``. Each
detail page carries the filter's values in ``x_Dimensions`` (our own key), so every row has
its service, account and tag, and no cost is counted twice. ``NextPageToken`` is followed;
every HTTP attempt is counted (Cost Explorer bills each request); the client runs botocore's
``standard`` retry mode so ``LimitExceededException`` is retried with backoff.

The same ``parse_pages`` reads live responses and the JSON ``aws ce get-cost-and-usage`` prints.

>>> page = {"GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"},
...                              {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
...         "ResultsByTime": [{"TimePeriod": {"Start": "2025-01-01", "End": "2025-01-02"},
...           "Total": {}, "Estimated": True, "Groups": [
...           {"Keys": ["Claude 3.5 Sonnet (Amazon Bedrock Edition)",
...                     "USE1-MP:USE1_InputTokenCount-Units"],
...            "Metrics": {"UnblendedCost": {"Amount": "4.2315", "Unit": "USD"}}}]}]}
>>> parsed, days = parse_pages([page])
>>> row = parsed.table.to_pylist()[0]
>>> row["BilledCost"], row["x_TokenType"], row["x_Estimated"], days
(Decimal('4.231500000000'), 'input', True, [datetime.date(2025, 1, 1)])
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cascadeflow_cloud.schema import Provider
from cascadeflow_cloud.sources.base import Parsed, Pull, RequestStats, SourceError
from cascadeflow_cloud.sources.mapping import (
    AWS_MARKETPLACE_MODELS,
    BEDROCK_SERVICE,
    MARKETPLACE_SUFFIX,
    aws_line,
    is_bedrock_service,
)
from cascadeflow_cloud.sources.refusals import Refusals, bounded, load_json, starts_with_object

if TYPE_CHECKING:
    from cascadeflow_cloud.config import AwsBedrockSource

COMPONENT = "aws_bedrock_source"  # IAM actions: permissions.COMPONENT_ACTIONS[COMPONENT]
#: Cost metrics in order of preference for ``BilledCost`` and ``EffectiveCost``.
BILLED_METRICS = ("UnblendedCost", "NetUnblendedCost", "BlendedCost")
EFFECTIVE_METRICS = ("AmortizedCost", "NetAmortizedCost")
THROTTLE_CODES = frozenset({"LimitExceededException", "ThrottlingException", "Throttling",
                            "TooManyRequestsException", "RequestLimitExceeded"})
DEFAULT_SERVICES = (BEDROCK_SERVICE, *(n + MARKETPLACE_SUFFIX for n in AWS_MARKETPLACE_MODELS))


def _metric(metrics: Mapping[str, Any], names: tuple[str, ...]) -> tuple[Any, Any]:
    for name in names:
        value = metrics.get(name)
        if isinstance(value, Mapping):
            return value.get("Amount"), value.get("Unit")
    return None, None


def page_problem(page: Any) -> str | None:
    """Why a page cannot be read as a ``GetCostAndUsage`` response at all (then it is
    refused whole), or None.

    >>> page_problem([]), page_problem({"ResultsByTime": {}})
    ('not a GetCostAndUsage response (no ResultsByTime)', 'ResultsByTime is not a list')
    """
    if not isinstance(page, Mapping) or "ResultsByTime" not in page:
        return "not a GetCostAndUsage response (no ResultsByTime)"
    if not isinstance(page["ResultsByTime"], list):
        return "ResultsByTime is not a list"
    defs = page.get("GroupDefinitions")
    if defs is not None and (not isinstance(defs, list)
                             or not all(isinstance(d, Mapping) for d in defs)):
        return "GroupDefinitions is not a list of {Type, Key}"
    if not isinstance(page.get("x_Dimensions") or {}, Mapping):
        return "x_Dimensions is not an object"
    return None


def _text_or_none(value: Any) -> str | None:
    return None if value is None else value if isinstance(value, str) else json.dumps(value)


def _group_problem(group: Any) -> str | None:
    if not isinstance(group, Mapping):
        return "not an object"
    keys = group.get("Keys", [])
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        return "Keys is not a list of text"
    if not isinstance(group.get("Metrics", {}), Mapping):
        return "Metrics is not an object"
    return None


def parse_pages(pages: Iterable[Mapping[str, Any]],
                refusals: Refusals | None = None) -> tuple[Parsed, list[date]]:
    """Parse ``GetCostAndUsage`` responses (one snapshot) into cost rows.

    Returns the parsed rows and every day the responses' ``TimePeriod``s cover (days with no
    groups included: those days are known to have no spend and are replaced as empty). A
    page that is not a response is refused whole, a result or group that does not fit is
    rejected (with the day it belonged to, when known): both are in ``rejected``.
    """
    import pyarrow as pa

    from cascadeflow_cloud.sources import frame

    refusals = refusals if refusals is not None else Refusals()
    starts: list[str | None] = []
    ends: list[str | None] = []
    estimated: list[bool] = []
    services: list[str | None] = []
    usages: list[str | None] = []
    accounts: list[str | None] = []
    regions: list[str | None] = []
    tags: list[dict[str, str] | None] = []
    billed: list[Any] = []
    units: list[Any] = []
    effective: list[Any] = []
    quantity: list[Any] = []
    q_units: list[Any] = []
    covered: set[date] = set()
    ignored = 0
    for page_no, page in enumerate(pages):
        problem = page_problem(page)
        if problem is not None:
            refusals.refuse({"page": page_no}, f"page {page_no}: {problem}")
            continue
        defs = page.get("GroupDefinitions") or []
        kinds = [(d.get("Type"), d.get("Key")) for d in defs]
        fixed = page.get("x_Dimensions") or {}
        for result_no, result in enumerate(page["ResultsByTime"]):
            where = f"page {page_no} result {result_no}"
            period = result.get("TimePeriod") if isinstance(result, Mapping) else None
            start = period.get("Start") if isinstance(period, Mapping) else None
            end = period.get("End") if isinstance(period, Mapping) else None
            days = _period_days(start, end)
            groups = result.get("Groups") or [] if isinstance(result, Mapping) else None
            if not days or not isinstance(groups, list):
                why = "not an object" if not isinstance(result, Mapping) else \
                    "Groups is not a list" if days else \
                    f"TimePeriod {bounded(period)!r} is not a period of 1 to " \
                    f"{frame.MAX_PERIOD_DAYS} days in {frame.FIRST_CHARGE_DAY.year}-" \
                    f"{frame.LAST_CHARGE_DAY.year}"
                refusals.reject_row(result, f"{where}: {why}", days[0] if days else None)
                continue
            covered.update(days)
            est = bool(result.get("Estimated", False))
            if not groups and isinstance(result.get("Total"), Mapping) and result["Total"]:
                groups = [{"Keys": [], "Metrics": result["Total"]}]
            for group in groups:
                problem = _group_problem(group)
                if problem is not None:
                    refusals.reject_row(group, f"{where} group: {problem}", days[0])
                    continue
                keys = group.get("Keys") or []
                service, account = fixed.get("SERVICE"), fixed.get("LINKED_ACCOUNT")
                usage = region = None
                tag: dict[str, str] | None = None
                for (kind, key), value in zip(kinds, keys, strict=False):
                    if kind == "DIMENSION":
                        if key == "SERVICE":
                            service = value
                        elif key == "USAGE_TYPE":
                            usage = value
                        elif key == "LINKED_ACCOUNT":
                            account = value
                        elif key == "REGION":
                            region = value
                    elif kind == "TAG" and isinstance(value, str):
                        name, _, tag_value = value.partition("$")
                        tag = {name or str(key): tag_value} if tag_value else None
                if service is not None and not is_bedrock_service(service):
                    ignored += 1
                    continue
                metrics = group.get("Metrics") or {}
                amount, unit = _metric(metrics, BILLED_METRICS)
                eff, _ = _metric(metrics, EFFECTIVE_METRICS)
                qty, q_unit = _metric(metrics, ("UsageQuantity",))
                starts.append(_text_or_none(start))
                ends.append(_text_or_none(end))
                estimated.append(est)
                services.append(_text_or_none(service))
                usages.append(usage)
                accounts.append(_text_or_none(account))
                regions.append(region)
                tags.append(tag)
                billed.append(amount)
                units.append(_text_or_none(unit))
                effective.append(eff)
                quantity.append(qty)
                q_units.append(_text_or_none(q_unit) if q_unit not in (None, "N/A") else None)

    raw = pa.table({
        "Start": pa.array(starts, pa.string()), "End": pa.array(ends, pa.string()),
        "Estimated": pa.array(estimated, pa.bool_()),
        "SERVICE": pa.array(services, pa.string()), "USAGE_TYPE": pa.array(usages, pa.string()),
        "LINKED_ACCOUNT": pa.array(accounts, pa.string()),
        "REGION": pa.array(regions, pa.string()),
        "Amount": pa.array([None if a is None else str(a) for a in billed], pa.string()),
        "Unit": pa.array(units, pa.string()),
        "AmortizedAmount": pa.array([None if a is None else str(a) for a in effective],
                                    pa.string()),
        "UsageQuantity": pa.array([None if a is None else str(a) for a in quantity],
                                  pa.string()),
        "QuantityUnit": pa.array(q_units, pa.string()),
        "Tags": frame.tags_json(tags),
    })
    return refusals.add_to(finish_raw(raw, ignored)), sorted(covered)


def finish_raw(raw: Any, ignored: int = 0) -> Parsed:
    """Raw group columns (one row per group) → validated, mapped cost rows, in batches."""
    from cascadeflow_cloud.sources import frame

    parsed = frame.in_batches(raw, _finish_batch)
    parsed.ignored += ignored
    return parsed


def _finish_batch(raw: Any) -> Parsed:
    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.sources import frame

    billed_money = frame.to_money(raw.column("Amount"))
    eff_money = frame.to_money(raw.column("AmortizedAmount"))
    qty_money = frame.to_money(raw.column("UsageQuantity"))
    service = raw.column("SERVICE")
    usage_type = pc.dictionary_encode(raw.column("USAGE_TYPE"))  # SkuId, description, mapping
    marketplace = pc.fill_null(pc.ends_with(service, MARKETPLACE_SUFFIX), False)
    publisher = pc.if_else(
        marketplace, pc.if_else(pc.fill_null(pc.starts_with(service, "Claude"), False),
                                "Anthropic", "AWS Marketplace"),
        pc.if_else(pc.is_valid(service), pa.scalar("Amazon Web Services"),
                   pa.scalar(None, pa.string())))
    columns: dict[str, Any] = {
        "BilledCost": billed_money,
        "EffectiveCost": pc.coalesce(eff_money, billed_money),
        "BillingCurrency": raw.column("Unit"),
        "ChargePeriodStart": frame.by_distinct(raw.column("Start"), _timestamps),
        "ChargePeriodEnd": frame.by_distinct(raw.column("End"), _timestamps),
        "ServiceName": pc.fill_null(service, BEDROCK_SERVICE),
        "PublisherName": publisher,
        "SubAccountId": raw.column("LINKED_ACCOUNT"),
        "RegionId": raw.column("REGION"),
        "SkuId": usage_type, "ChargeDescription": usage_type,
        "ConsumedQuantity": qty_money, "ConsumedUnit": raw.column("QuantityUnit"),
        "Tags": raw.column("Tags"),
        "x_Estimated": raw.column("Estimated"),
    }
    mapping = frame.map_names([service, usage_type], aws_line)
    amounts = raw.column("Amount")
    return frame.finish(
        columns, source="aws_bedrock", raw=raw, mapping=mapping,
        bad=frame.invalid_money(amounts, billed_money),
        bad_reason=lambda i: f"UnblendedCost.Amount: not a number (got {amounts[i].as_py()!r})",
    )


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
    keep = pc.or_kleene(pc.is_null(service), pc.or_(pc.equal(service, BEDROCK_SERVICE),
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


def _period_days(start: Any, end: Any) -> list[date]:
    """The days of a ``TimePeriod`` (End exclusive), or [] when it is not one a bill can
    have (not dates, outside the charge years, longer than a year)."""
    from cascadeflow_cloud.sources.frame import FIRST_CHARGE_DAY, LAST_CHARGE_DAY, MAX_PERIOD_DAYS

    if not isinstance(start, str) or not isinstance(end, str):
        return []
    try:
        first = date.fromisoformat(start[:10])
        last = date.fromisoformat(end[:10])
    except ValueError:
        return []
    length = max((last - first).days, 1)
    if first < FIRST_CHARGE_DAY or last > LAST_CHARGE_DAY + timedelta(days=1) \
            or length > MAX_PERIOD_DAYS:
        return []
    return [first + timedelta(days=i) for i in range(length)]


def _timestamps(values: Any) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.lake.tables import TIMESTAMP

    days = pc.utf8_slice_codeunits(values, 0, 10)
    ok = pc.match_substring_regex(days, r"^\d{4}-\d{2}-\d{2}$")
    days = pc.if_else(pc.fill_null(ok, False), days, pa.scalar(None, pa.string()))
    try:
        return pc.cast(pc.cast(days, pa.timestamp("us")), TIMESTAMP)
    except pa.ArrowInvalid:  # e.g. 2025-02-30: read one by one, bad ones null
        out = []
        for text in days.to_pylist():
            try:
                out.append(date.fromisoformat(text) if text else None)
            except ValueError:
                out.append(None)
        return pc.cast(pc.cast(pa.array(out, pa.date32()), pa.timestamp("us")), TIMESTAMP)


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


def _metrics(settings: AwsBedrockSource) -> list[str]:
    metrics = ["UnblendedCost", "UsageQuantity"]
    if settings.include_amortized:
        metrics.insert(1, "AmortizedCost")
    return metrics


def _period(since: date, until: date) -> dict[str, str]:
    return {"Start": since.isoformat(), "End": (until + timedelta(days=1)).isoformat()}


def _dimension(key: str, values: list[str]) -> dict[str, Any]:
    return {"Dimensions": {"Key": key, "Values": values}}


def build_request(settings: AwsBedrockSource, since: date, until: date) -> dict[str, Any]:
    """The discovery query for ``[since, until]`` (End is exclusive): every configured
    service, grouped by ``SERVICE`` + ``LINKED_ACCOUNT`` — which services and accounts had
    spend, so the detail queries ask only for those."""
    services = list(dict.fromkeys([*DEFAULT_SERVICES, *settings.services]))
    return {
        "TimePeriod": _period(since, until),
        "Granularity": "DAILY",
        "Metrics": ["UnblendedCost"],
        "Filter": _dimension("SERVICE", services),
        "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"},
                    {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}],
    }


def plan_requests(settings: AwsBedrockSource, since: date, until: date,
                  pairs: Iterable[tuple[str, str | None]]
                  ) -> list[tuple[dict[str, str], dict[str, Any]]]:
    """The detail queries for the (service, account) pairs the discovery query found, each
    with the dimension values its filter fixes (stored as ``x_Dimensions`` on its pages).

    Without ``tag_key``: one query per service, grouped by ``USAGE_TYPE`` + ``LINKED_ACCOUNT``.
    With ``tag_key``: one per (service, account), grouped by ``USAGE_TYPE`` + ``TAG`` (the tag
    groups, untagged ``key$`` included, add up to the account's total: nothing is counted twice).

    >>> from cascadeflow_cloud.config import AwsBedrockSource
    >>> pairs = [("Amazon Bedrock", "111"), ("Amazon Bedrock", "222")]
    >>> [fixed for fixed, _ in plan_requests(AwsBedrockSource(), date(2025, 1, 1),
    ...                                      date(2025, 1, 2), pairs)]
    [{'SERVICE': 'Amazon Bedrock'}]
    >>> plan = plan_requests(AwsBedrockSource(tag_key="team"), date(2025, 1, 1),
    ...                      date(2025, 1, 2), pairs)
    >>> [fixed["LINKED_ACCOUNT"] for fixed, _ in plan], plan[0][1]["GroupBy"][1]
    (['111', '222'], {'Type': 'TAG', 'Key': 'team'})
    """
    base = {"TimePeriod": _period(since, until), "Granularity": "DAILY",
            "Metrics": _metrics(settings)}
    usage = {"Type": "DIMENSION", "Key": "USAGE_TYPE"}
    plan: list[tuple[dict[str, str], dict[str, Any]]] = []
    if not settings.tag_key:
        for service in sorted({s for s, _ in pairs}):
            plan.append(({"SERVICE": service}, {
                **base, "Filter": _dimension("SERVICE", [service]),
                "GroupBy": [usage, {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}]}))
        return plan
    for service, account in sorted(set(pairs), key=lambda p: (p[0], p[1] or "")):
        fixed = {"SERVICE": service}
        where = _dimension("SERVICE", [service])
        if account:
            fixed["LINKED_ACCOUNT"] = account
            where = {"And": [where, _dimension("LINKED_ACCOUNT", [account])]}
        plan.append((fixed, {**base, "Filter": where,
                             "GroupBy": [usage, {"Type": "TAG", "Key": settings.tag_key}]}))
    return plan


def discovered_pairs(pages: Iterable[Mapping[str, Any]]) -> list[tuple[str, str | None]]:
    """(service, linked account) pairs with groups in discovery responses (Bedrock only)."""
    pairs: dict[tuple[str, str | None], None] = {}
    for page in pages:
        keys_of = [d.get("Key") for d in page.get("GroupDefinitions") or []]
        for result in page.get("ResultsByTime") or []:
            for group in result.get("Groups") or []:
                named = dict(zip(keys_of, group.get("Keys") or [], strict=False))
                service = named.get("SERVICE")
                if is_bedrock_service(service):
                    pairs[(str(service), named.get("LINKED_ACCOUNT"))] = None
    return list(pairs)


def make_client(settings: AwsBedrockSource) -> Any:
    """A Cost Explorer client in ``standard`` retry mode (legacy does not retry
    ``LimitExceededException``)."""
    import boto3
    from botocore.config import Config as BotoConfig

    # A fresh session resolves credentials now, not whatever boto3's default session cached.
    return boto3.session.Session().client("ce", region_name=settings.region, config=BotoConfig(
        retries={"mode": "standard", "max_attempts": settings.max_attempts}))


class AwsBedrockCostSource:
    """Pulls Bedrock cost through Cost Explorer; the client may be passed in (tests, moto)."""

    name: Provider = "aws_bedrock"
    component = COMPONENT

    def __init__(self, settings: AwsBedrockSource, client: Any | None = None) -> None:
        self.settings = settings
        self.stats = RequestStats()
        self._client = client
        self._page_count = 0  # pages of the current pull (capped by max_pages)

    @property
    def scope(self) -> str:
        return self.settings.scope

    def _counting_client(self) -> Any:
        client = self._client if self._client is not None else make_client(self.settings)
        if not getattr(client, "_cascadeflow_counted", False):
            client.meta.events.register(
                "response-received.cost-explorer.GetCostAndUsage", self._on_response)
            client._cascadeflow_counted = True
        return client

    def _on_response(self, parsed_response: Any = None, exception: Any = None,
                     **_: Any) -> None:
        self.stats.requests += 1
        code = ((parsed_response or {}).get("Error") or {}).get("Code")
        if code in THROTTLE_CODES:
            self.stats.throttles += 1

    def _pages(self, client: Any, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        from botocore.exceptions import ClientError, NoCredentialsError

        from cascadeflow_cloud.sources.base import CredentialsMissing, QuotaExhausted

        while True:
            if self._page_count >= self.settings.max_pages:
                raise SourceError(
                    f"Cost Explorer needed more than {self.settings.max_pages} requests; raise "
                    "sources.aws_bedrock.max_pages or shorten the window")
            try:
                page = client.get_cost_and_usage(**request)
            except NoCredentialsError as exc:
                raise CredentialsMissing(
                    "AWS credentials not found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/"
                    "AWS_SECRET_ACCESS_KEY (or run with an IAM role) for sources.aws_bedrock"
                ) from exc
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code in THROTTLE_CODES:
                    raise QuotaExhausted(f"Cost Explorer kept throttling ({code}) after "
                                         f"{self.settings.max_attempts} attempts") from exc
                raise SourceError(f"Cost Explorer {code}: "
                                  f"{exc.response.get('Error', {}).get('Message', '')}") from exc
            self._page_count += 1
            yield page
            token = page.get("NextPageToken")
            if not token:
                return
            request = {**request, "NextPageToken": token}

    def fetch_pages(self, since: date, until: date) -> Iterator[dict[str, Any]]:
        """Every detail response page for the window (discovery first, then one query per
        service — or per service and account with ``tag_key`` — following
        ``NextPageToken``); each page gets ``x_Dimensions``, the values its filter fixes.
        ``max_pages`` caps the requests of one pull (each costs $0.01)."""
        client = self._counting_client()
        self._page_count = 0
        discovery = list(self._pages(client, build_request(self.settings, since, until)))
        for fixed, request in plan_requests(self.settings, since, until,
                                            discovered_pairs(discovery)):
            for page in self._pages(client, request):
                yield {**page, "x_Dimensions": fixed}

    def pull(self, since: date, until: date) -> Iterator[Pull]:
        parsed, covered = parse_pages(list(self.fetch_pages(since, until)))
        window = [since + timedelta(days=i) for i in range((until - since).days + 1)]
        yield Pull(self.scope, sorted(set(window) | set(covered)), parsed)
