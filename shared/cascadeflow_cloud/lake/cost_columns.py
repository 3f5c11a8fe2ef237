"""Every cost and event row as the current schema means it, whenever it was written.

Cost files written before ``COST_SCHEMA_VERSION`` 2 lack the charge dimensions (they read
back as nulls) and carry the bill's own model spelling in ``x_Model``. ``upgrade_costs``
turns such rows into what a version-2 writer would have stored for them:

* ``x_ChargeKind`` ``tokens`` where ``x_TokenType`` is a token type (input, output,
  cache_read, cache_write), else ``other`` (``x_TokenModality`` stays null: the old mapper
  never read it, and an old token row may have been audio);
* ``x_ServiceTier`` ``standard`` and ``PricingCategory`` ``Standard``;
* ``x_ModelSpelling`` the stored ``x_Model``.

A row is old when its ``x_ChargeKind`` is null (every version-2 row has one). For every row,
``x_Model`` goes through ``catalog.canonical_model`` once per distinct value (many rows, few
models), so a lake written before the catalog learnt a spelling reads with the canonical id.
``Lake.read_costs`` / ``iter_costs`` and ``tables.read_cost_bytes`` apply it: a reader of
cost files never needs to call it itself.

Events: ``event_models`` is the canonical model of each event: its ``model_id`` where the
SDK recorded one, else ``canonical_model(model)`` (events written before ``model_id``
existed, or whose model the catalog did not know when they were recorded).

>>> t = pa.table({"x_Model": ["Claude4.6Sonnet", None], "x_TokenType": ["input", "other"],
...               "x_ChargeKind": pa.nulls(2, pa.string())})
>>> t = upgrade_costs(t)
>>> t.column("x_Model").to_pylist(), t.column("x_ChargeKind").to_pylist()
(['claude-sonnet-4-6', None], ['tokens', 'other'])
>>> t.column("x_ModelSpelling").to_pylist()
['Claude4.6Sonnet', None]
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from cascadeflow_cloud.catalog import canonical_model

#: Parquet key-value metadata key holding a cost file's schema version.
VERSION_KEY = b"cascadeflow.cost_schema_version"
#: Token types that make an old row a token charge (``other`` is not one).
TOKEN_TYPES = ("input", "output", "cache_read", "cache_write")
TOKEN_ROW_TYPES = pa.array(TOKEN_TYPES)
#: What a null means on an old row (besides kind, modality and spelling, which depend on it);
#: the SQL views (``exports.sql``) build the same defaults from these.
OLD_ROW_DEFAULTS = {"x_ServiceTier": "standard", "PricingCategory": "Standard"}
_STRING = pa.string()


def text_column(table: pa.Table, name: str) -> pa.Array:
    """Column ``name`` as one plain string array (dictionaries decoded; nulls if absent).

    >>> text_column(pa.table({"a": pa.array(["x"]).dictionary_encode()}), "a").to_pylist()
    ['x']
    """
    if name not in table.column_names:
        return pa.nulls(table.num_rows, _STRING)
    column = table.column(name)
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    out = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    return out.cast(_STRING)


def canonical_models(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """``catalog.canonical_model`` of each value, computed once per distinct value; the
    column itself when nothing changes.

    >>> canonical_models(pa.array(["NovaPro", "NovaPro", "x-9", None])).to_pylist()
    ['nova-pro', 'nova-pro', 'x-9', None]
    """
    if len(values) == 0:
        return values
    if pa.types.is_dictionary(values.type):
        values = values.cast(_STRING)
    distinct = pc.unique(values)
    names = distinct.to_pylist()
    mapped = [canonical_model(name) for name in names]
    if mapped == names:
        return values
    return pc.take(pa.array(mapped, _STRING), pc.index_in(values, value_set=distinct))


def _fill(table: pa.Table, name: str, where: pa.ChunkedArray | pa.Array,
          value: pa.ChunkedArray | pa.Array | str) -> pa.Table:
    """``name`` set to ``value`` on the rows ``where`` is true and the column is null."""
    if name not in table.column_names:
        table = table.append_column(name, pa.nulls(table.num_rows, _STRING))
    column = table.column(name)
    if isinstance(value, str):
        value = pa.scalar(value, _STRING)
    filled = pc.if_else(pc.and_(where, pc.is_null(column)), value, column)
    return table.set_column(table.schema.get_field_index(name), name, filled)


def upgrade_costs(table: pa.Table) -> pa.Table:
    """Cost rows in the current schema's meaning (see the module docstring); the table is
    returned unchanged when it holds nothing to upgrade. Columns the table lacks are added
    only when old rows need them."""
    if table.num_rows == 0:
        return table
    kind = table.column("x_ChargeKind") if "x_ChargeKind" in table.column_names \
        else pa.chunked_array([pa.nulls(table.num_rows, _STRING)])
    old = pc.is_null(kind)
    if pc.any(old).as_py():
        token_type = table.column("x_TokenType")
        token_row = pc.and_(old, pc.fill_null(pc.is_in(token_type, value_set=TOKEN_ROW_TYPES),
                                               False))
        table = _fill(table, "x_ChargeKind", old,
                      pc.if_else(token_row, pa.scalar("tokens"), pa.scalar("other")))
        for name, value in OLD_ROW_DEFAULTS.items():
            table = _fill(table, name, old, value)
        table = _fill(table, "x_ModelSpelling", old, table.column("x_Model"))
    model = table.column("x_Model")
    canonical = canonical_models(model)
    if canonical is not model:
        table = table.set_column(table.schema.get_field_index("x_Model"), "x_Model", canonical)
    return table


def event_models(table: pa.Table) -> pa.Array | pa.ChunkedArray:
    """The canonical model of each event row: ``model_id``, else ``canonical_model(model)``.

    >>> t = pa.table({"model": ["us.anthropic.claude-sonnet-4-6", "gpt-x"],
    ...               "model_id": pa.array([None, None], pa.string())})
    >>> event_models(t).to_pylist()
    ['claude-sonnet-4-6', 'gpt-x']
    """
    model = table.column("model")
    fallback = canonical_models(model)
    if fallback is not model:  # a blank spelling has no canonical id: keep it as it is
        fallback = pc.coalesce(fallback, model)
    if "model_id" not in table.column_names:
        return fallback
    model_id = table.column("model_id")
    if model_id.null_count == 0:
        return model_id
    if model_id.null_count == len(model_id):
        return fallback
    return pc.coalesce(model_id, fallback)


__all__ = ["OLD_ROW_DEFAULTS", "TOKEN_TYPES", "VERSION_KEY", "canonical_models",
           "event_models", "text_column", "upgrade_costs"]
