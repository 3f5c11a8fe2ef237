"""The column-wise fast paths give what the general paths give (exact money, nulls kept)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pyarrow as pa
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cascadeflow_cloud.sources import gcp_vertex
from cascadeflow_cloud.sources.aws_bedrock.names import classify as aws_line
from cascadeflow_cloud.sources.frame import LINE_COLUMNS, map_names
from cascadeflow_cloud.sources.money_columns import to_money


def test_plain_utc_timestamps_read_without_regex_and_others_fall_back() -> None:
    plain = pa.array(["2025-01-01 00:00:00 UTC", "2025-01-31T23:00:00Z", "2025-02-01 01:02:03"])
    assert gcp_vertex._plain_timestamps(plain) is not None
    assert gcp_vertex._timestamps(plain).to_pylist() == [
        datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 31, 23, tzinfo=UTC),
        datetime(2025, 2, 1, 1, 2, 3, tzinfo=UTC)]
    for odd in (["2025-01-01 00:00:00.5 UTC"], ["2025-02-30 00:00:00 UTC"], [None]):
        assert gcp_vertex._plain_timestamps(pa.array(odd, pa.string())) is None
    got = gcp_vertex._timestamps(pa.array(["2025-01-01 00:00:00.5 UTC",
                                           "2025-02-30 00:00:00 UTC"]))
    assert got.to_pylist() == [datetime(2025, 1, 1, 0, 0, 0, 500000, tzinfo=UTC), None]


def test_credit_sums_exact_with_one_or_several_credits() -> None:
    credit = pa.struct([("amount", pa.float64())])
    one = pa.array([[{"amount": -0.1}], [], None, [{"amount": -0.000123}]], pa.list_(credit))
    assert gcp_vertex._credit_sums(one, 4).to_pylist() == [
        Decimal("-0.1"), Decimal(0), Decimal(0), Decimal("-0.000123")]
    many = pa.array([[{"amount": -0.1}, {"amount": -0.2}], [], [{"amount": 0.3}]],
                    pa.list_(credit))
    assert gcp_vertex._credit_sums(many, 3).to_pylist() == [
        Decimal("-0.3"), Decimal(0), Decimal("0.3")]


def test_map_names_by_codes_matches_row_by_row_mapping() -> None:
    services = ["Amazon Bedrock", None, "Claude 3.5 Sonnet (Amazon Bedrock Edition)",
                "Claude 3.5 Sonnet (Amazon Bedrock Edition)", "Amazon Bedrock"]
    usages = ["USE1-NovaLite-input-tokens", "USE1-MP:USE1_InputTokenCount-Units",
              "USE1-MP:USE1_OutputTokenCount-Units", None, "USE1-NovaLite-input-tokens"]
    got = map_names([pa.array(services), pa.array(usages)], aws_line)
    want = [aws_line(s, u) for s, u in zip(services, usages, strict=True)]
    for column, attr in LINE_COLUMNS.items():
        assert got.columns[column].to_pylist() == [getattr(w, attr) for w in want], column
    assert got.mapped.to_pylist() == [w.mapped for w in want]


def _text_route(values: list[float | None]) -> list[Decimal | None]:
    """Money the slow, obviously right way: the float's shortest text, quantised."""
    from cascadeflow_cloud.schema import quantize_money

    out: list[Decimal | None] = []
    for v in values:
        ok = v is not None and v == v and abs(v) < 1e26  # NaN, ±inf and huge: unreadable
        out.append(quantize_money(Decimal(repr(v))) if ok else None)
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-5000, max_value=5000),
    st.integers(min_value=-(2**54), max_value=2**54).map(float),
    st.decimals(min_value=-4100, max_value=4100, places=6, allow_nan=False,
                allow_infinity=False).map(float),
    st.decimals(min_value=-10, max_value=10, places=13, allow_nan=False,
                allow_infinity=False).map(float),
), min_size=1, max_size=60))
@example([2.204852416508484e+34])  # Arrow's cast misread this text (found by this test)
def test_float_money_equals_the_shortest_text_route(values: list[float | None]) -> None:
    got = to_money(pa.array(values, pa.float64())).to_pylist()
    want = _text_route(values)
    assert got == want, values


def test_float_money_boundaries() -> None:
    values = [4095.999999999999, 4096.0, 0.1 + 0.2, 1e-12, 5e-13, 1.5e-12, 2.5e-12,
              -0.000001, 123.456789012345, 1e-300, -0.0, 993909.0, 2.0**53 - 1, 2.0**53,
              4096.5, None]
    assert to_money(pa.array(values)).to_pylist() == _text_route(values)


def test_text_money_in_exponent_form_is_read_exactly_or_refused() -> None:
    # Arrow's own cast turns "2.204852416508484e+34" into a wrong 23-digit number without
    # an error (found by the property test above): such text must never become money
    texts = ["2.204852416508484e+34", "1e-07", "-3.5E2", "1e26", "9.9e25", "abc", None, "7"]
    got = to_money(pa.array(texts, pa.string())).to_pylist()
    assert got == [None, Decimal("0.0000001"), Decimal(-350), None, Decimal("9.9e25"), None,
                   None, Decimal(7)]
