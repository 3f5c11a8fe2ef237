"""Azure OpenAI billed cost from the Cost Management Query API (extra ``azure``).

``CostManagementClient.query.usage`` on each configured scope, daily, grouped by resource and
meter, filtered to the Azure OpenAI / Foundry Models services. Columns are found by name
(``PreTaxCost`` / ``Cost`` / ``CostUSD`` / ``totalCost``; ``UsageDate`` as the number
``YYYYMMDD``); ``nextLink`` pages are POSTed again with the same body until null; a 429 is
retried after the largest ``Retry-After`` / ``x-ms-ratelimit-*retry-after`` header (the SDK does
not retry a POST whose 429 carries only the Cost Management headers). Windows longer than 31
days are split (Daily queries accept at most 31 days).

The same ``parse_responses`` reads live responses and saved Query API JSON.

>>> resp = {"id": "subscriptions/0000/providers/Microsoft.CostManagement/query/q1",
...   "properties": {"nextLink": None,
...     "columns": [{"name": "Cost", "type": "Number"}, {"name": "UsageDate", "type": "Number"},
...                 {"name": "Meter", "type": "String"}, {"name": "Currency", "type": "String"}],
...     "rows": [[3.52415, 20250401, "gpt 4o 0513 Input global Tokens", "USD"]]}}
>>> parsed, days = parse_responses([resp])
>>> r = parsed.table.to_pylist()[0]
>>> r["BilledCost"], r["x_Model"], r["x_TokenType"], days
(Decimal('3.524150000000'), 'gpt-4o-2024-05-13', 'input', [datetime.date(2025, 4, 1)])
>>> scope_of(resp)
'/subscriptions/0000'
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cascadeflow_cloud.schema import Provider
from cascadeflow_cloud.sources.base import (
    CredentialsMissing,
    Parsed,
    Pull,
    QuotaExhausted,
    RequestStats,
    SourceError,
    require,
)
from cascadeflow_cloud.sources.mapping import azure_line
from cascadeflow_cloud.sources.refusals import Refusals, day_of, load_json

if TYPE_CHECKING:
    from cascadeflow_cloud.config import AzureOpenAISource

COMPONENT = "azure_openai_source"  # see permissions.COMPONENT_ACTIONS (no AWS actions)
#: Azure RBAC the reading identity needs on every configured scope.
CLOUD_ROLES = ("Cost Management Reader",)
COST_COLUMNS = ("PreTaxCost", "Cost", "totalCost", "CostUSD", "PreTaxCostUSD")
MAX_DAYS_PER_QUERY = 31
RETRY_AFTER_HEADERS = (
    "retry-after",
    "x-ms-ratelimit-microsoft.costmanagement-qpu-retry-after",
    "x-ms-ratelimit-microsoft.costmanagement-entity-retry-after",
    "x-ms-ratelimit-microsoft.costmanagement-tenant-retry-after",
    "x-ms-ratelimit-microsoft.costmanagement-clienttype-retry-after",
    "x-ms-ratelimit-microsoft.costmanagement-client-retry-after",
    "x-ms-ratelimit-microsoft.consumption-retry-after",
)


def retry_after(headers: Mapping[str, str], ceiling: float) -> float | None:
    """The largest retry-after value among the headers (seconds), capped; None if none.

    >>> retry_after({"x-ms-ratelimit-microsoft.costmanagement-qpu-retry-after": "1"}, 60)
    1.0
    >>> tenant = "x-ms-ratelimit-microsoft.costmanagement-tenant-retry-after"
    >>> retry_after({"Retry-After": "5", tenant: "90"}, 60)
    60.0
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    values = []
    for name in RETRY_AFTER_HEADERS:
        try:
            values.append(float(lowered[name]))
        except (KeyError, ValueError):
            continue
    return float(min(max(values), ceiling)) if values else None


def scope_of(response: Mapping[str, Any]) -> str | None:
    """The scope a saved response was queried on, read from its ``id``."""
    rid = str(response.get("id") or "")
    head, sep, _ = rid.partition("/providers/Microsoft.CostManagement")
    if not sep or not head.strip("/"):
        return None
    return "/" + head.strip("/")


def _lookup(names: list[str], *wanted: str) -> int | None:
    lowered = [n.lower() for n in names]
    for name in wanted:
        if name.lower() in lowered:
            return lowered.index(name.lower())
    return None


def _usage_day(value: Any) -> str | None:
    if value is None:
        return None
    text = str(int(value)) if isinstance(value, int | float) else str(value)
    if len(text) == 8 and text.isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return text[:10]


def _array(values: Sequence[Any]) -> Any:
    """A column as Arrow, types inferred; mixed columns fall back to their text."""
    import pyarrow as pa

    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else repr(v) if isinstance(v, float) else str(v)
                         for v in values], pa.string())


def _text(arr: Any) -> Any:
    import pyarrow as pa

    return arr if pa.types.is_string(arr.type) else arr.cast(pa.string())


def _usage_days(arr: Any) -> Any:
    """``20250401`` (number or text) or ``2025-04-01T00:00:00`` → ``2025-04-01``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_floating(arr.type):
        arr = arr.cast(pa.int64(), safe=False)
    text = _text(arr)
    # a number read as text may carry a fraction: "20250401.0"
    text = pc.replace_substring_regex(text, r"^(\d{8})\.0+$", r"\1")
    compact = pc.fill_null(pc.match_substring_regex(text, r"^\d{8}$"), False)
    dashed = pc.binary_join_element_wise(pc.utf8_slice_codeunits(text, 0, 4),
                                         pc.utf8_slice_codeunits(text, 4, 6),
                                         pc.utf8_slice_codeunits(text, 6, 8), "-")
    return pc.if_else(compact, dashed, pc.utf8_slice_codeunits(text, 0, 10))


_NAMED = ("ResourceId", "ResourceLocation", "Meter", "MeterSubCategory", "ServiceName",
          "SubscriptionId", "MeterId")


_DATE_COLUMNS = ("UsageDate", "BillingMonth", "Date")


def page_problem(response: Any) -> str | None:
    """Why a response cannot be read as a query result at all (then it is refused whole),
    or None.

    >>> page_problem({"properties": {"columns": [{"name": "UsageDate"}], "rows": [[1]]}})
    'no cost column (one of PreTaxCost, Cost, totalCost, CostUSD, PreTaxCostUSD)'
    >>> page_problem({"properties": {"columns": [], "rows": {}}})
    'properties.rows is not a list'
    """
    props = response.get("properties", response) if isinstance(response, dict) else None
    if not isinstance(props, dict) or "columns" not in props or "rows" not in props:
        return "not a Cost Management query result (no properties.columns/rows)"
    columns, rows = props.get("columns"), props.get("rows")
    if not isinstance(columns, list) or not all(isinstance(c, dict) for c in columns):
        return "properties.columns is not a list of columns"
    if rows is not None and not isinstance(rows, list):
        return "properties.rows is not a list"
    names = [str(c.get("name")) for c in columns]
    if rows and _lookup(names, *COST_COLUMNS) is None:
        return f"no cost column (one of {', '.join(COST_COLUMNS)})"
    if rows and _lookup(names, *_DATE_COLUMNS) is None:
        return f"no usage date column (one of {', '.join(_DATE_COLUMNS)})"
    return None


def _raw_page(response: Mapping[str, Any], refusals: Refusals | None = None) -> Any:
    """One response's rows as raw Arrow columns (looked up by name), or None if empty. Rows
    that are not a list of one cell per column are rejected into ``refusals``."""
    props = response.get("properties", response)
    names = [str(c.get("name")) for c in props.get("columns") or []]
    rows = props.get("rows") or []
    width = len(names)
    if any(not isinstance(row, list) or len(row) != width for row in rows):
        refusals = refusals if refusals is not None else Refusals()
        date_idx = _lookup(names, *_DATE_COLUMNS)
        good = []
        for i, row in enumerate(rows):
            if isinstance(row, list) and len(row) == width:
                good.append(row)
                continue
            day = day_of(row[date_idx]) if isinstance(row, list) and date_idx is not None \
                and date_idx < len(row) else None
            what = (f"has {len(row)} cell{'s' * (len(row) != 1)}"
                    if isinstance(row, list) else f"is a {type(row).__name__}, not a list")
            refusals.reject_row({"row": row, "columns": names},
                                f"row {i}: {what}, the page names {width} columns", day)
        rows = good
    if not rows:
        return None
    cols = list(zip(*rows, strict=True))
    tags = None
    tag_key, tag_value = _lookup(names, "TagKey"), _lookup(names, "TagValue")
    if tag_key is not None and tag_value is not None:
        from cascadeflow_cloud.sources.frame import tags_json

        tags = tags_json([{str(k): str(v)} if k and v else None
                          for k, v in zip(cols[tag_key], cols[tag_value], strict=True)])
    return _raw_columns(names, len(rows),
                        lambda idx: _array(cols[idx]) if idx < len(cols) else None, tags)


def _raw_columns(names: list[str], n: int, column: Callable[[int], Any],
                 tags: Any = None) -> Any:
    """The raw table of ``n`` rows whose column at position ``i`` is ``column(i)``."""
    import pyarrow as pa

    from cascadeflow_cloud.sources.frame import by_distinct

    nulls = pa.nulls(n, pa.string())

    def col(*wanted: str) -> Any:
        idx = _lookup(names, *wanted)
        found = column(idx) if idx is not None else None
        return nulls if found is None else found

    cost_idx = _lookup(names, *COST_COLUMNS)
    currency = col("Currency", "BillingCurrency")
    if cost_idx is not None and names[cost_idx].upper().endswith("USD"):
        currency = pa.repeat(pa.scalar("USD"), n)
    return pa.table({
        "cost": col(*COST_COLUMNS),
        "UsageDate": by_distinct(col("UsageDate", "BillingMonth", "Date"), _usage_days),
        "Currency": _text(currency),
        **{name: _text(col(name)) for name in _NAMED},
        "quantity": col("UsageQuantity", "totalQuantity", "Quantity"),
        "Tags": nulls if tags is None else tags,
    })


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


def parse_responses(responses: Iterable[Mapping[str, Any]]) -> tuple[Parsed, list[date]]:
    """Parse Query API responses (one snapshot) into cost rows.

    Returns the rows and the days from the first to the last usage day present (a query
    result lists every day that had cost, so the days between are known to be empty). A
    response that is not a query result is refused whole; a malformed row is rejected; both
    are in the result's ``rejected``, and the days they may have held are its lost days.
    """
    refusals = Refusals()
    raws = []
    for i, response in enumerate(responses):
        problem = page_problem(response)
        if problem is not None:
            refusals.refuse({"page": i}, f"page {i}: {problem}")
            continue
        raw = _raw_page(response, refusals)
        if raw is not None:
            raws.append(raw)
    parsed, span = _parse_raws(raws)
    return refusals.add_to(parsed), span


def _parse_raws(raws: list[Any]) -> tuple[Parsed, list[date]]:
    import pyarrow as pa

    from cascadeflow_cloud.sources import frame

    if raws:
        raws = [frame.conform_text(r, ("cost", "quantity")) for r in raws]
        parsed = frame.in_batches(pa.concat_tables(raws, promote_options="permissive"),
                                  _finish_batch)
    else:
        parsed = frame.combine([])
    days = frame.days_of(parsed.table)
    span = [days[0] + timedelta(days=i) for i in range((days[-1] - days[0]).days + 1)] \
        if days else []
    return parsed, span


def _finish_batch(raw: Any) -> Parsed:
    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.sources import frame
    from cascadeflow_cloud.sources.aws_bedrock import _timestamps

    money = frame.to_money(raw.column("cost"))
    start = frame.by_distinct(raw.column("UsageDate"), _timestamps)
    end = pc.cast(pc.add(start, pa.scalar(timedelta(days=1), pa.duration("us"))), start.type)
    columns: dict[str, Any] = {
        "BilledCost": money, "BillingCurrency": raw.column("Currency"),
        "ChargePeriodStart": start, "ChargePeriodEnd": end,
        "ServiceName": pc.fill_null(raw.column("ServiceName"), "Azure OpenAI"),
        "PublisherName": frame.constant("Microsoft", raw.num_rows),
        "SubAccountId": raw.column("SubscriptionId"),
        "RegionId": raw.column("ResourceLocation"), "ResourceId": raw.column("ResourceId"),
        "SkuId": pc.coalesce(raw.column("MeterId"), raw.column("Meter")),
        "ChargeDescription": raw.column("Meter"),
        "ConsumedQuantity": frame.to_money(raw.column("quantity")),
        "Tags": raw.column("Tags"),
    }
    mapping = frame.map_names([raw.column("Meter"), raw.column("MeterSubCategory")], azure_line)
    costs = _text(raw.column("cost").combine_chunks())
    return frame.finish(
        columns, source="azure_openai", raw=raw, mapping=mapping,
        bad=frame.invalid_money(raw.column("cost"), money),
        bad_reason=lambda i: f"cost: not a number (got {costs[i].as_py()!r})",
    )


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


def build_query(settings: AzureOpenAISource, since: date, until: date) -> dict[str, Any]:
    """The Query API body for ``[since, until]`` (at most 31 days)."""
    return {
        "type": settings.cost_type, "timeframe": "Custom",
        "timePeriod": {"from": f"{since.isoformat()}T00:00:00Z",
                       "to": f"{until.isoformat()}T23:59:59Z"},
        "dataset": {
            "granularity": "Daily",
            "aggregation": {"totalCost": {"name": "Cost", "function": "Sum"},
                            "totalQuantity": {"name": "UsageQuantity", "function": "Sum"}},
            "grouping": [{"type": "Dimension", "name": name} for name in settings.group_by],
            "filter": {"dimensions": {"name": "ServiceName", "operator": "In",
                                      "values": list(settings.service_names)}},
        },
    }


def make_client(settings: AzureOpenAISource) -> Any:
    """A ``CostManagementClient`` with azure-identity credentials (a service principal when
    ``tenant_id``/``client_id``/``client_secret`` are set, else ``DefaultAzureCredential``)."""
    from azure.mgmt.costmanagement import CostManagementClient

    credential: Any
    if settings.client_secret:
        from azure.identity import ClientSecretCredential

        from cascadeflow_cloud.secrets import resolve_secret

        tenant = require(settings.tenant_id, "sources.azure_openai.tenant_id")
        client_id = require(settings.client_id, "sources.azure_openai.client_id")
        credential = ClientSecretCredential(tenant, client_id,
                                            resolve_secret(settings.client_secret))
    else:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    if settings.endpoint:
        return CostManagementClient(credential, base_url=settings.endpoint.rstrip("/"))
    return CostManagementClient(credential)


def _loopback(url: str | None) -> bool:
    """Plain HTTP is allowed only to a local emulator on this machine."""
    from urllib.parse import urlparse

    parsed = urlparse(url or "")
    return parsed.scheme == "http" and parsed.hostname in ("127.0.0.1", "localhost", "::1")


def _raw_json(pipeline_response: Any, _deserialized: Any, _headers: Any) -> Any:
    """``cls`` hook: keep the response JSON as the cloud sent it (same parser as files)."""
    return pipeline_response.http_response.json()


class AzureOpenAICostSource:
    """Pulls Azure OpenAI cost per configured scope; the client may be passed in."""

    name: Provider = "azure_openai"
    component = COMPONENT

    def __init__(self, settings: AzureOpenAISource, client: Any | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.stats = RequestStats()
        self.sleep = sleep
        self.slept: list[float] = []
        self._client = client

    def _call(self, send: Callable[[], Any]) -> Any:
        from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

        for attempt in range(self.settings.max_retries + 1):
            self.stats.requests += 1
            try:
                return send()
            except ClientAuthenticationError as exc:
                raise CredentialsMissing(
                    "Azure credentials were refused or not found: set "
                    "sources.azure_openai.tenant_id/client_id/client_secret (or AZURE_* "
                    "environment variables for DefaultAzureCredential)"
                ) from exc
            except HttpResponseError as exc:
                status = getattr(exc, "status_code", None)
                headers = dict(getattr(exc.response, "headers", None) or {})
                if status != 429 and status != 503:
                    raise SourceError(f"Cost Management query failed: HTTP {status} "
                                      f"{exc.reason or ''}".strip()) from exc
                self.stats.throttles += 1
                delay = retry_after(headers, self.settings.max_retry_after)
                if attempt == self.settings.max_retries:
                    raise QuotaExhausted(f"Cost Management kept answering {status} after "
                                         f"{attempt + 1} attempts") from exc
                delay = delay if delay is not None else min(2.0 ** attempt,
                                                            self.settings.max_retry_after)
                self.slept.append(delay)
                self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def fetch(self, scope: str, since: date, until: date) -> Iterator[dict[str, Any]]:
        """Every response page for one scope and window (≤ 31 days per query)."""
        from azure.core.exceptions import HttpResponseError
        from azure.core.rest import HttpRequest

        client = self._client if self._client is not None else make_client(self.settings)
        extra: dict[str, Any] = {"enforce_https": False} if _loopback(self.settings.endpoint) \
            else {}
        day = since
        while day <= until:
            last = min(until, day + timedelta(days=MAX_DAYS_PER_QUERY - 1))
            body = build_query(self.settings, day, last)

            def first(body: dict[str, Any] = body) -> Any:
                return client.query.usage(scope, body, cls=_raw_json, **extra)

            page = self._call(first)
            pages = 1
            while True:
                if page is None:  # HTTP 204: no content
                    break
                yield page
                link = (page.get("properties") or {}).get("nextLink")
                if not link:
                    break
                pages += 1
                if pages > self.settings.max_pages:
                    raise SourceError(f"more than {self.settings.max_pages} pages for {scope}; "
                                      "raise sources.azure_openai.max_pages")

                def send_next(link: str = link, body: dict[str, Any] = body) -> Any:
                    response = client.send_request(HttpRequest("POST", link, json=body), **extra)
                    if response.status_code != 200:
                        raise HttpResponseError(response=response)
                    return response.json()

                page = self._call(send_next)
            day = last + timedelta(days=1)

    def pull(self, since: date, until: date) -> Iterator[Pull]:
        scopes = require(self.settings.scopes, "sources.azure_openai.scopes",
                         " (e.g. ['/subscriptions/<id>'])")
        window = [since + timedelta(days=i) for i in range((until - since).days + 1)]
        for scope in scopes:
            parsed, span = parse_responses(list(self.fetch(scope, since, until)))
            yield Pull(scope.rstrip("/"), sorted(set(window) | set(span)), parsed)
