"""Property suite for the collector body: JSON lines or a JSON array, plain, gzip or several gzip
members, good events mixed with hostile ones. Invariants: never a 5xx; every good event stored
exactly once (also when the batch is sent again); every bad one quarantined with a reason that
names its position; the answer's counts match; the lake reads every stored day back with exact
totals; no raw user id is stored; a body over a limit stores nothing."""

from __future__ import annotations

import gzip
import itertools
import json
import tempfile
from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cascadeflow_cloud.jobs import collect
from cascadeflow_cloud.jobs.collect_body import Refused, inflate, items
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.signing import sign_headers
from tests.hostile.test_collector_findings import SECRET, quarantined, stored

LIMITS = collect.Limits(memory_mb=256, max_decompressed_bytes=2 * 1024 * 1024, max_events=150,
                        quarantine_record_bytes=32 * 1024, max_line_bytes=8 * 1024)
SETTINGS = settings(max_examples=50, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

_TAG_TEXT = st.text(alphabet='ab,[]{}":\\ é\t', max_size=12)
_GOOD = st.fixed_dictionaries(
    {"provider": st.sampled_from(["aws_bedrock", "azure_openai", "gcp_vertex"]),
     "model": st.sampled_from(["gpt-4o", "gemini-2.5-flash",
                               "anthropic.claude-3-haiku-20240307-v1:0"]),
     "input_tokens": st.integers(0, 10**6),
     "timestamp": st.datetimes(datetime(2024, 1, 1), datetime(2027, 12, 31))
     .map(lambda d: d.isoformat() + "Z")},
    optional={"estimated_cost": st.decimals(0, 100, places=6).map(str),
              "user_id": st.from_regex(r"[a-z]{3,10}@example\.com", fullmatch=True),
              "team": st.sampled_from(["search", "support"]),
              "tags": st.dictionaries(st.sampled_from(["k", "x,y", "q[\"]"]), _TAG_TEXT,
                                      max_size=3)})
_BASE = ('{"event_id": "bad-%d", "provider": "gcp_vertex", "model": "m", '
         '"timestamp": "2026-11-01T12:00:00Z", %s}')
_HOSTILE_FIELDS = [
    '"tags": ' + "[" * 3000 + "]" * 3000, '"timestamp": "9999-12-31T23:59:59-01:00"',
    '"timestamp": "0001-01-01T00:00:00+01:00"', '"estimated_cost": 1e400',
    '"input_tokens": ' + "9" * 5000, '"input_tokens": -1', '"provider": "aws"',
    '"prompt": "TOP SECRET PROMPT"', '"messages": [{"content": "TOP SECRET"}]',
    '"latency_ms": NaN', '"unknown_field": 1', '"tags": "' + "x" * 9000 + '"',
]
_HOSTILE_ITEMS = [b"nope", b"{}", b"[1, 2]", b"null", b'"a string"', b"3",
                  b'{"provider": "gcp_vertex", "model": "\xff\xfe"}',
                  b'{"provider": "gcp_vertex", "model": "m"}']  # no timestamp


@st.composite
def hostile(draw: st.DrawFn, number: int) -> bytes:
    if draw(st.booleans()):
        return (_BASE % (number, draw(st.sampled_from(_HOSTILE_FIELDS)))).encode()
    return draw(st.sampled_from(_HOSTILE_ITEMS))


@st.composite
def batches(draw: st.DrawFn) -> tuple[bytes, list[dict[str, Any]], list[int]]:
    """A body, its good events (with ids) and the 1-based positions of its bad items."""
    kinds = draw(st.lists(st.booleans(), min_size=1, max_size=40))
    good: list[dict[str, Any]] = []
    bad: list[int] = []
    raw: list[bytes] = []
    for position, is_good in enumerate(kinds, start=1):
        if is_good:
            event = {**draw(_GOOD), "event_id": f"good-{position}"}
            good.append(event)
            raw.append(json.dumps(event, ensure_ascii=draw(st.booleans())).encode())
        else:
            bad.append(position)
            raw.append(draw(hostile(position)))
    if draw(st.booleans()):
        sep = draw(st.sampled_from([b"\n", b"\r\n", b"\n\n  \n"]))
        text = sep.join(raw) + draw(st.sampled_from([b"", b"\n"]))
        # a lines body whose only item is itself an array (``[1, 2]``) is an array body: two
        # items, not one (found by this suite; the collector is right, the case was not)
        assume(not (len(raw) == 1 and raw[0].lstrip().startswith(b"[")))
    else:
        sep = draw(st.sampled_from([b",", b", ", b"\n,\n"]))
        text = b"[" + sep.join(raw) + b"]" + draw(st.sampled_from([b"", b"\n"]))
    encoding = draw(st.sampled_from(["plain", "gzip", "members"]))
    if encoding == "plain":
        return text, good, bad
    if encoding == "gzip":
        return gzip.compress(text), good, bad
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=4)))
    bounds = [0, *cuts, len(text)]
    body = b"".join(gzip.compress(text[a:b]) for a, b in itertools.pairwise(bounds))
    return body, good, bad


def _post(store: LocalStore, body: bytes) -> collect.CollectResult:
    return collect.collect(body, sign_headers(body, SECRET), store=store, secret=SECRET,
                           hmac_key=b"pepper", limits=LIMITS)


@SETTINGS
@given(batches())
def test_every_good_event_stored_once_every_bad_one_quarantined(case) -> None:  # type: ignore[no-untyped-def]
    body, good, bad = case
    with tempfile.TemporaryDirectory() as root:
        _check_batch(LocalStore(root), body, good, bad)


def _check_batch(store: LocalStore, body: bytes, good: list[dict[str, Any]],
                 bad: list[int]) -> None:
    from cascadeflow_cloud.lake.tables import Lake

    result = _post(store, body)
    assert result.status == 200, result.error
    assert (result.accepted, result.quarantined) == (len(good), len(bad))
    assert result.body()["accepted"] == len(good)
    events = stored(store)
    assert Counter(e.event_id for e in events) == Counter(e["event_id"] for e in good)
    assert all(e.user_id is None or (e.user_id.startswith("u_") and "@" not in e.user_id)
               for e in events)
    rows = quarantined(store)
    positions = [int(row["reason"].split(":")[0].removeprefix("event ")) for row in rows]
    assert sorted(positions) == bad
    assert all(row["reason"].split(":", 1)[1].strip() for row in rows)
    assert result.reasons == [row["reason"] for row in rows][:collect.REASONS_SHOWN]
    keys = sorted(store.list("events/"))
    # the lake reads every stored day, with exact totals
    table = Lake(store).read_events()
    assert table.num_rows == len(good)
    total = sum((Decimal(e["estimated_cost"]) for e in good if "estimated_cost" in e),
                Decimal(0))
    assert sum((v for v in table.column("estimated_cost").to_pylist() if v is not None),
               Decimal(0)) == total
    # sent again (a retry): the same objects, nothing counted twice
    again = _post(store, body)
    assert again.status == 200 and sorted(store.list("events/")) == keys
    assert Lake(store).read_events().num_rows == len(good)


@SETTINGS
@given(st.integers(LIMITS.max_events + 1, LIMITS.max_events + 40), st.booleans())
def test_a_batch_over_the_events_limit_stores_nothing(count, zipped) -> None:  # type: ignore[no-untyped-def]
    text = b"\n".join(b'{"provider": "gcp_vertex", "model": "m", "timestamp": '
                      b'"2026-11-01T12:00:00Z", "event_id": "e%d"}' % i for i in range(count))
    with tempfile.TemporaryDirectory() as root:
        store = LocalStore(root)
        result = _post(store, gzip.compress(text) if zipped else text)
        assert result.status == 413 and "send smaller batches" in (result.error or "")
        assert list(store.list("")) == []


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='a,[]{}":\\\n é'),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(alphabet='k,[]"\\', max_size=4), inner, max_size=3),
    max_leaves=8)


@settings(max_examples=100, deadline=None)
@given(st.lists(_JSON, max_size=12), st.booleans(), st.data())
def test_items_are_the_same_however_the_body_is_cut(values, as_array, data) -> None:  # type: ignore[no-untyped-def]
    """The splitter sees the inflated body in pieces of any size (gzip members end anywhere):
    the items are those of the whole body. (A JSON-lines body whose first line is an array is
    first taken for an array; ``collect`` then reads it again with ``lines_only``, which the
    collector property above covers.)"""
    if as_array:
        text = json.dumps(values).encode()
        expected = values
    else:  # JSON lines: one compact value per line (a newline inside a string is \n)
        text = b"\n".join(json.dumps(v).encode() for v in values)
        expected = values
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=6)))
    bounds = [0, *cuts, len(text)]
    pieces = [text[a:b] for a, b in itertools.pairwise(bounds)]
    got = list(items(pieces, max_item_bytes=10_000, lines_only=not as_array))
    assert not any(isinstance(g, Refused) for g in got)
    assert [json.loads(g) for g in got if not isinstance(g, Refused)] == expected
    members = b"".join(gzip.compress(p) for p in pieces if p)
    assert b"".join(inflate(members, gzipped=True, max_bytes=len(text))) == text


@settings(max_examples=100, deadline=None)
@given(st.lists(_JSON, max_size=12), st.booleans(), st.integers(1, 40), st.data())
def test_an_item_over_the_limit_is_refused_alone(values, as_array, limit, data) -> None:  # type: ignore[no-untyped-def]
    """Cut anywhere, with a small item limit: one answer per value, in order; exactly the
    values longer than the limit are refused, and every other one comes out whole."""
    text = (json.dumps(values) if as_array
            else "\n".join(json.dumps(v) for v in values)).encode()
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=6)))
    pieces = [text[a:b] for a, b in itertools.pairwise([0, *cuts, len(text)])]
    got = list(items(pieces, max_item_bytes=limit, lines_only=not as_array))
    assert len(got) == len(values)
    for value, item in zip(values, got, strict=True):
        raw = json.dumps(value).encode()
        assert item == (Refused(f"longer than {limit} bytes") if len(raw) > limit else raw)
