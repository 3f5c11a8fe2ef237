"""The charge dimensions of billed cost as reports and exports read them (pyarrow; no I/O).

Lake files written before cost schema v2 read the charge columns as nulls, and their
``x_Model`` holds the bill's own spelling. ``with_dimensions`` is the one place readers fill
them: ``x_Model`` canonical (``catalog.canonical_model``), the old spelling kept in
``x_ModelSpelling``, ``x_ChargeKind`` ``tokens`` for token lines else ``other``,
``x_ServiceTier`` ``standard``, ``PricingCategory`` ``Standard``, ``ChargeCategory``
``Usage``. Values a row already has are kept. (When the lake's read path fills them itself,
``with_dimensions`` becomes a call to it.)

>>> import pyarrow as pa
>>> old = pa.table({"x_Model": ["anthropic.claude-3-5-sonnet-20240620-v1:0", None],
...                 "x_TokenType": ["input", "other"]})
>>> new = with_dimensions(old)
>>> new.column("x_Model").to_pylist(), new.column("x_ModelSpelling").to_pylist()
(['claude-3-5-sonnet-20240620', None], ['anthropic.claude-3-5-sonnet-20240620-v1:0', None])
>>> new.column("x_ChargeKind").to_pylist(), new.column("PricingCategory").to_pylist()
(['tokens', 'other'], ['Standard', 'Standard'])
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from cascadeflow_cloud.catalog import canonical_model

#: Token types whose lines are token charges (the rest of an old lake's rows are ``other``).
TOKEN_TYPES = ("input", "output", "cache_read", "cache_write")
#: What a null means on an old row, per column.
DEFAULTS = {"x_ServiceTier": "standard", "PricingCategory": "Standard",
            "ChargeCategory": "Usage"}


def text_column(table: pa.Table, name: str) -> pa.Array:
    """Column ``name`` as one plain string array (dictionaries decoded; nulls if absent)."""
    if name not in table.column_names:
        return pa.nulls(table.num_rows, pa.string())
    column = table.column(name)
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    out = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    return out.cast(pa.string())


def _put(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    if name in table.column_names:
        return table.set_column(table.schema.get_field_index(name), name, values)
    return table.append_column(name, values)


def canonical_models(values: pa.Array) -> pa.Array:
    """Each spelling's canonical model id (looked up once per distinct value).

    >>> canonical_models(pa.array(["o3-0416", None, "o3-0416"])).to_pylist()
    ['o3-2025-04-16', None, 'o3-2025-04-16']
    """
    encoded = pc.dictionary_encode(values)
    names = [canonical_model(v) for v in encoded.dictionary.to_pylist()]
    return pc.take(pa.array(names, pa.string()), encoded.indices)


def with_dimensions(costs: pa.Table) -> pa.Table:
    """``costs`` with the charge columns filled for old rows (see the module docstring)."""
    if costs.num_rows == 0:
        for name in ("x_ModelSpelling", "x_ChargeKind", *DEFAULTS):
            if name not in costs.column_names:
                costs = costs.append_column(name, pa.nulls(0, pa.string()))
        return costs
    model = text_column(costs, "x_Model")
    spelling = pc.coalesce(text_column(costs, "x_ModelSpelling"), model)
    costs = _put(costs, "x_ModelSpelling", spelling)
    costs = _put(costs, "x_Model", canonical_models(model))
    is_tokens = pc.fill_null(pc.is_in(text_column(costs, "x_TokenType"),
                                      pa.array(TOKEN_TYPES, pa.string())), False)
    kind = pc.if_else(is_tokens, pa.scalar("tokens"), pa.scalar("other"))
    costs = _put(costs, "x_ChargeKind", pc.coalesce(text_column(costs, "x_ChargeKind"), kind))
    for name, value in DEFAULTS.items():
        costs = _put(costs, name, pc.coalesce(text_column(costs, name), pa.scalar(value)))
    return costs
