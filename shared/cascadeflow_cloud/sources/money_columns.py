"""Money columns, exactly: text, decimals and floats → decimal128(38, 12) (pyarrow; no I/O).

Amounts go text → decimal; floats go through their shortest text form (what the cloud
printed), never through binary. A value that cannot be read (or is too large for the lake's
decimals) becomes null, and ``invalid_money`` says which rows had a value that was lost, so the
parser can quarantine them.

>>> import pyarrow as pa
>>> to_money(pa.array(["1.2143", None, "0.30000000000000004"])).to_pylist()
[Decimal('1.214300000000'), None, Decimal('0.300000000000')]
>>> to_money(pa.array(["2.204852416508484e+34", "1.5E-3"])).to_pylist()  # too big: unreadable
[None, Decimal('0.001500000000')]
>>> to_money(pa.array([0.1 + 0.2, 3.52415])).to_pylist()
[Decimal('0.300000000000'), Decimal('3.524150000000')]
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import pyarrow as pa
import pyarrow.compute as pc

from cascadeflow_cloud.lake.tables import MONEY
from cascadeflow_cloud.schema import quantize_money


def to_money(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Strings or floats → decimal128(38, 12), exactly as printed; unparsable → null.

    Use ``invalid_money`` on the input and output to find values that were present but bad.
    """
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if pa.types.is_decimal(arr.type):
        return arr.cast(MONEY)
    if pa.types.is_float64(arr.type) and len(arr):
        return _float_money(arr)
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = arr.cast(pa.string())
    # Arrow's cast misreads some exponent forms ("2.2e+34" becomes a wrong 23-digit number,
    # no error): those few values are read by Python's Decimal instead
    exponent = pc.fill_null(pc.match_substring(arr, "e", ignore_case=True), False)
    if not pc.any(exponent).as_py():
        return _text_money(arr)
    plain = _text_money(pc.if_else(exponent, pa.scalar(None, pa.string()), arr))
    return pc.replace_with_mask(plain, exponent, _decimal_money(arr.filter(exponent)))


def _text_money(arr: pa.Array) -> pa.Array:
    try:
        return arr.cast(MONEY)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _decimal_money(arr)


def _decimal_money(arr: pa.Array) -> pa.Array:
    """Text → money through Python's Decimal, one value at a time (the slow, sure way)."""
    out: list[Decimal | None] = []
    for text in arr.to_pylist():
        try:
            value = Decimal(text) if text is not None else None
            # too large for decimal128(38, 12) (or not finite): unreadable, not a crash
            out.append(quantize_money(value) if value is not None and value.is_finite()
                       and abs(value) < _MONEY_LIMIT else None)
        except InvalidOperation:
            out.append(None)
    return pa.array(out, type=MONEY)


_MONEY_LIMIT = Decimal(10) ** 26  # decimal128(38, 12) holds 26 digits before the point

#: Below this magnitude two 12-place decimals are never within one double of each other.
_EXACT_BELOW = 4096.0
_WHOLE_BELOW = float(2**53)  # every whole number below this is a double, printed as itself


def _float_money(arr: pa.Array) -> pa.Array:
    """float64 → money, equal to the shortest-text route, without printing most values.

    ``n = rint(x·10¹²)`` is taken when ``n / 10¹²`` reads back as exactly ``x`` and
    ``|x| < 4096``: then ``n·10⁻¹²`` is the only 12-place decimal that rounds to ``x``, which
    is the shortest text of ``x`` (so the same money). Whole numbers below 2⁵³ are taken as
    they are. Other rows (more than 12 decimals, large fractions, NaN) go through their text.

    >>> _float_money(pa.array([0.1 + 0.2, 3.52415, 5000.25, None])).to_pylist()
    [Decimal('0.300000000000'), Decimal('3.524150000000'), Decimal('5000.250000000000'), None]
    """
    import numpy as np

    if arr.null_count == len(arr):
        return pa.nulls(len(arr), MONEY)
    x = arr.to_numpy(zero_copy_only=False)  # nulls read as NaN
    with np.errstate(invalid="ignore", over="ignore"):
        n = np.rint(x * 1e12)
        exact = np.isfinite(x) & (np.abs(x) < _EXACT_BELOW) & (n / 1e12 == x)
        # whole numbers (token counts, say) are exact at any size a double holds exactly
        whole = ~exact & np.isfinite(x) & (np.abs(x) < _WHOLE_BELOW) & (x == np.rint(x))
    unscaled = pa.array(np.where(exact, n, 0).astype(np.int64)).cast(pa.decimal128(38, 0))
    valid = None
    if arr.null_count:
        valid = pc.is_valid(arr).to_numpy(zero_copy_only=False)
        exact_or_null = exact | ~valid
    # the same 128-bit integers read with scale 12: n · 10⁻¹² (nulls kept as nulls)
    validity = None if valid is None else pa.array(valid).buffers()[1]
    fast = pa.Array.from_buffers(MONEY, len(arr), [validity, unscaled.buffers()[1]])
    if whole.any():
        exact |= whole
        exact_or_null = exact if valid is None else exact | ~valid
        wholes = pa.array(np.where(whole, x, 0).astype(np.int64)).cast(MONEY)
        fast = pc.if_else(pa.array(whole), wholes, fast)
    if (exact if valid is None else exact_or_null).all():
        return fast
    rest = pa.array(~exact if valid is None else ~exact_or_null)
    slow = to_money(arr.filter(rest).cast(pa.string()))
    return pc.replace_with_mask(fast, rest, slow)


def invalid_money(raw: pa.Array | pa.ChunkedArray, money: pa.Array) -> pa.Array:
    """True where ``raw`` had a value but ``money`` could not read it."""
    return pc.and_(pc.is_valid(raw), pc.is_null(money))
