"""The one protocol every native export format follows, and the registry of formats.

A format recognises its export from the header (``matches``) and maps a table of raw export
rows onto ``lake.tables.COST_SCHEMA`` (``to_costs``), classifying each line with its cloud's
``names.classify``: rows it cannot read go to ``Parsed.rejected`` with a reason (one bad row
costs only itself), lines of services ``keep`` leaves out are counted in ``Parsed.ignored``.
Formats do no I/O; they are imported only when used.

>>> import pyarrow as pa
>>> Keep().ai_only, Keep.everything().ai_only
(True, False)
>>> keep = Keep(services=("Amazon Simple Storage Service",))
>>> mask, left_out = keep.select(pa.array([True, False, False]),
...     pa.array(["Amazon Bedrock", "amazon simple storage service", "Amazon EC2"]))
>>> mask.to_pylist(), left_out
([True, True, False], 1)
>>> sorted(FORMATS) == sorted(set(FORMATS))
True

The scope of a row (its lake partition, what a delivery replaces) is what the cloud's API
source uses: the AWS payer account (``BillingAccountId``; Cost Explorer's ``scope`` setting is
the payer id), the Azure subscription (``SubAccountId``, ``/subscriptions/<id>``, the Query
API's usual scope), the GCP billing account (``BillingAccountId``, as the BigQuery source):

>>> t = pa.table({"x_Source": ["aws_bedrock", "azure_openai", "gcp_vertex", "aws_bedrock"],
...               "BillingAccountId": ["111", "ea-1", "01AB-CD", None],
...               "SubAccountId": ["222", "/subscriptions/s1", "proj", "333"]})
>>> scope_of(t).to_pylist()
['111', '/subscriptions/s1', '01AB-CD', 'default']
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from cascadeflow_cloud.errors import CascadeFlowError

if TYPE_CHECKING:
    import pyarrow as pa

    from cascadeflow_cloud.sources.base import Parsed


#: Which column holds each source's scope (see the module docstring); a null scope is
#: ``DEFAULT_SCOPE``, the API sources' default.
SCOPE_COLUMNS: dict[str, str] = {"aws_bedrock": "BillingAccountId",
                                 "azure_openai": "SubAccountId",
                                 "gcp_vertex": "BillingAccountId"}
DEFAULT_SCOPE = "default"


class UnknownFormat(CascadeFlowError):
    """No registered format recognises a file's columns."""


@dataclass(frozen=True)
class Keep:
    """Which lines of an export to keep: by default the AI-service lines only (each format
    knows its cloud's AI services); ``services`` adds more by name (case-insensitive);
    ``everything()`` keeps every line."""

    ai_only: bool = True
    services: tuple[str, ...] = ()

    @classmethod
    def everything(cls) -> Keep:
        return cls(ai_only=False)

    @classmethod
    def from_settings(cls, all_services: bool, services: Sequence[str] = ()) -> Keep:
        """From the ``sources.native`` config section or the CLI's ``--all-services``."""
        return cls(ai_only=not all_services, services=tuple(services))

    def select(self, ai: pa.Array, *services: pa.Array) -> tuple[pa.Array, int]:
        """The rows to keep — the AI lines (``ai``; every line unless ``ai_only``) and the
        lines whose service (in any of the text columns ``services``) is one of
        ``self.services`` by name — and how many rows that leaves out."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if not self.ai_only:
            return pa.repeat(pa.scalar(True), len(ai)), 0
        kept = pc.fill_null(ai, False)
        if self.services:
            wanted = pa.array([s.casefold() for s in self.services], pa.string())
            for names in services:
                kept = pc.or_(kept, pc.fill_null(pc.is_in(pc.utf8_lower(names), wanted), False))
        return kept, len(kept) - int(pc.sum(kept.cast(pa.int64())).as_py() or 0)


class NativeFormat(Protocol):
    """One export kind (``name`` is its registry key)."""

    name: str

    def matches(self, columns: Sequence[str]) -> bool:
        """Whether a header with these column names is this format (case-insensitive)."""
        ...

    def to_costs(self, table: pa.Table, *, keep: Keep) -> Parsed:
        """The kept lines of ``table`` as cost rows (``Parsed.table`` in ``COST_SCHEMA``)."""
        ...


#: name -> "module:attribute" of its ``NativeFormat`` (imported when used). Order matters for
#: ``detect``: the first format that matches wins, so list specific formats before general ones.
FORMATS: dict[str, str] = {
    "aws_cur2": "cascadeflow_cloud.sources.native.aws_cur:CUR2",
    "aws_legacy_cur": "cascadeflow_cloud.sources.native.aws_cur:LEGACY_CUR",
    "azure_cost_details": "cascadeflow_cloud.sources.native.azure_cost_details:COST_DETAILS",
    "gcp_billing_export": "cascadeflow_cloud.sources.native.gcp_billing:BILLING_EXPORT",
    "focus": "cascadeflow_cloud.sources.native.focus_in:FOCUS",
}


def native_format(name: str) -> NativeFormat:
    """The registered format ``name`` (imported now)."""
    if name not in FORMATS:
        known = ", ".join(FORMATS) or "none registered"
        raise UnknownFormat(f"unknown export format {name!r}; known: {known}")
    module, _, attribute = FORMATS[name].partition(":")
    found: NativeFormat = getattr(importlib.import_module(module), attribute)
    return found


def detect(columns: Sequence[str]) -> NativeFormat:
    """The first registered format whose ``matches`` accepts ``columns``.

    >>> detect(["a", "b"])
    Traceback (most recent call last):
    ...
    cascadeflow_cloud.sources.native.formats.UnknownFormat: no known export format has ...
    """
    for name in FORMATS:
        candidate = native_format(name)
        if candidate.matches(columns):
            return candidate
    shown = ", ".join(list(columns)[:8]) + (" …" if len(columns) > 8 else "")
    raise UnknownFormat(f"no known export format has columns {shown}; known formats: "
                        f"{', '.join(FORMATS) or 'none registered'} (pass --format to choose)")


def scope_of(table: pa.Table) -> pa.Array:
    """The scope of each cost row (``SCOPE_COLUMNS`` by its ``x_Source``; null → ``default``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def text(name: str) -> pa.Array:
        if name not in table.column_names:
            return pa.nulls(table.num_rows, pa.string())
        column = table.column(name).combine_chunks()
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        return column.cast(pa.string())

    source = text("x_Source")
    scope = pa.nulls(table.num_rows, pa.string())
    for name, column in SCOPE_COLUMNS.items():
        scope = pc.if_else(pc.fill_null(pc.equal(source, name), False), text(column), scope)
    return pc.fill_null(scope, DEFAULT_SCOPE)
