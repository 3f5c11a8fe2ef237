"""Findings 4 and 8 of "Hostile input and faults never cost data", each reproduced against the
real collector handler (function-URL events; over HTTP on 127.0.0.1 for the SDK's sink)."""

from __future__ import annotations

import base64
import gzip
import json
import logging
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from cascadeflow_cloud.jobs import collect
from cascadeflow_cloud.jobs.collect_body import CHUNK_BYTES, BodyTooLarge, inflate
from cascadeflow_cloud.lake.eventlog import decode_events
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.schema import UsageEvent
from cascadeflow_cloud.sdk.sinks.http import CollectorError, HttpSink
from cascadeflow_cloud.signing import sign_headers
from tests.support.clock import FakeClock
from tests.support.http import Answer, LocalServer, Request

SECRET = "hostile-collector-secret"
ROOT = Path(__file__).resolve().parents[2]


def good_line(i: int, **extra: Any) -> str:
    return json.dumps({"event_id": f"good-{i}", "provider": "gcp_vertex",
                       "model": "gemini-2.5-flash", "input_tokens": 10 + i,
                       "timestamp": "2026-11-01T12:00:00Z", **extra})


def bad_line(field: str) -> str:
    """A line with one hostile ``field`` (raw JSON text) on an otherwise good event."""
    return ('{"event_id": "bad", "provider": "gcp_vertex", "model": "m", '
            '"timestamp": "2026-11-01T12:00:00Z", ' + field + "}")


def function_url_event(body: bytes, *, headers: dict[str, str] | None = None,
                       raw: str | None = None) -> dict[str, Any]:
    return {"version": "2.0", "isBase64Encoded": True,
            "body": raw if raw is not None else base64.b64encode(body).decode(),
            "headers": headers if headers is not None else sign_headers(body, SECRET),
            "requestContext": {"http": {"method": "POST", "path": "/"}}}


def post(store: LocalStore, body: bytes, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    response = collect.handle_http_event(function_url_event(body, **kwargs), store=store,
                                         secret=SECRET, hmac_key=b"pepper")
    return response["statusCode"], json.loads(response["body"])


def stored(store: LocalStore) -> list[UsageEvent]:
    return [event for key in store.list("events/") if key.endswith(".jsonl.gz")
            for event in decode_events(store.get(key).data)]


def quarantined(store: LocalStore) -> list[dict[str, Any]]:
    return [json.loads(line) for key in store.list("quarantine/events/")
            for line in store.get(key).data.splitlines() if line.strip()]


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "lake")


HOSTILE = {
    "deep_nesting": bad_line('"tags": ' + "[" * 50_000 + "]" * 50_000),
    "timestamp_after_9999_in_utc": bad_line('"timestamp": "9999-12-31T23:59:59-01:00"'),
    "timestamp_before_year_1_in_utc": bad_line('"timestamp": "0001-01-01T00:00:00+01:00"'),
    "cost_beyond_float": bad_line('"estimated_cost": 1e400'),
    "tokens_of_5000_digits": bad_line('"input_tokens": ' + "9" * 5000),
    "not_utf8": '{"event_id": "bad", "model": "\xff\xfe"}',
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_finding_4_one_hostile_event_is_quarantined_not_answered_500(store, case) -> None:  # type: ignore[no-untyped-def]
    line = HOSTILE[case].encode("latin-1" if case == "not_utf8" else "utf-8")
    body = gzip.compress(b"\n".join([good_line(1).encode(), line, good_line(2).encode()]))
    status, answer = post(store, body)
    assert status == 200, answer
    assert (answer["accepted"], answer["quarantined"]) == (2, 1)
    assert answer["reasons"][0].startswith("event 2: ")
    assert sorted(e.event_id for e in stored(store)) == ["good-1", "good-2"]
    [row] = quarantined(store)
    assert row["reason"] == answer["reasons"][0] and row["origin"] == "collector"


def test_finding_4_huge_numbers_never_cost_the_batch(store) -> None:  # type: ignore[no-untyped-def]
    """Finite but huge amounts: whatever the schema's bounds say, the other events are stored
    and the answer is never a 5xx."""
    lines = [good_line(1), bad_line('"estimated_cost": 1e308'),
             bad_line('"input_tokens": 99999999999999999999999'), good_line(2)]
    status, answer = post(store, "\n".join(lines).encode())
    assert status == 200
    assert answer["accepted"] + answer["quarantined"] == 4
    assert {"good-1", "good-2"} <= {e.event_id for e in stored(store)}
    assert answer["quarantined"] == len(quarantined(store))


def test_finding_4_invalid_base64_is_a_400_naming_it(store) -> None:  # type: ignore[no-untyped-def]
    status, answer = post(store, b"", headers=sign_headers(b"", SECRET), raw="!!not base64!!")
    assert status == 400
    assert "base64" in answer["error"]
    assert list(store.list("")) == []


@pytest.mark.parametrize(("body", "headers", "status", "words"), [
    (b"\x1f\x8b\x08\x00garbage", None, 400, "gzip"),
    (gzip.compress(good_line(1).encode())[:-12], None, 400, "truncated"),
    (gzip.compress(good_line(1).encode()) + b"trailing", None, 400, "after the last"),
    (good_line(1).encode(), {"content-encoding": "br"}, 415, "content-encoding"),
])
def test_finding_4_unreadable_bodies_are_4xx_and_store_nothing(store, body, headers, status,  # type: ignore[no-untyped-def]
                                                                words) -> None:
    signed = {**(headers or {}), **sign_headers(body, SECRET)}
    code, answer = post(store, body, headers=signed)
    assert code == status and words in answer["error"]
    assert list(store.list("")) == []


def test_finding_4_a_two_member_gzip_body_stores_both_members(store) -> None:  # type: ignore[no-untyped-def]
    first = gzip.compress((good_line(1) + "\n" + good_line(2)[:30]).encode())
    second = gzip.compress((good_line(2)[30:] + "\n" + good_line(3) + "\n").encode())
    status, answer = post(store, first + second)
    assert status == 200 and answer == {"accepted": 3, "quarantined": 0, "reasons": []}
    assert sorted(e.event_id for e in stored(store)) == ["good-1", "good-2", "good-3"]


def test_finding_8_a_64_kb_body_inflating_to_63_mib_is_refused_while_streaming(store) -> None:  # type: ignore[no-untyped-def]
    # 63 gzip members of 1 MiB each (as quick to build as one member, and as small)
    body = gzip.compress(b"{}\n" * (1024 * 1024 // 3), compresslevel=9) * 63
    assert len(body) < 70 * 1024
    status, answer = post(store, body)
    assert status == 413 and f"more than {collect.MAX_EVENTS} events" in answer["error"]
    assert list(store.list("")) == []
    # the same inflation without newlines stops at the byte limit, a piece at a time
    line = gzip.compress(b"x" * (1024 * 1024), compresslevel=9) * 63
    sizes: list[int] = []

    def drain() -> None:
        for piece in inflate(line, gzipped=True, max_bytes=collect.MAX_DECOMPRESSED_BYTES):
            sizes.append(len(piece))

    with pytest.raises(BodyTooLarge):
        drain()
    assert max(sizes) <= CHUNK_BYTES and sum(sizes) <= collect.MAX_DECOMPRESSED_BYTES
    assert sum(sizes) > collect.MAX_DECOMPRESSED_BYTES - CHUNK_BYTES  # members were followed
    assert post(store, line)[0] == 413


def test_finding_8_a_50000_event_batch_is_refused_whole_at_256_mb(store) -> None:  # type: ignore[no-untyped-def]
    assert collect.Limits.for_memory(256).max_events < 50_000
    body = gzip.compress("\n".join(good_line(i) for i in range(50_000)).encode())
    status, answer = post(store, body)
    assert status == 413 and "send smaller batches" in answer["error"]
    assert list(store.list("")) == []


def test_finding_8_limits_derive_from_the_function_memory(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    terraform = (ROOT / "infra/envs/example/main.tf").read_text()
    block = terraform[terraform.index("collect_events = {"):]
    memory = int(re.search(r"memory\s*=\s*(\d+)", block).group(1))  # type: ignore[union-attr]
    timeout = int(re.search(r"timeout\s*=\s*(\d+)", block).group(1))  # type: ignore[union-attr]
    assert (memory, timeout) == (collect.DEFAULT_MEMORY_MB, collect.DEFAULT_TIMEOUT_S)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", raising=False)
    assert collect.function_memory_mb() == memory
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
    assert collect.function_memory_mb() == 1024
    small, large = collect.Limits.for_memory(memory), collect.Limits.for_memory(1024)
    assert large.max_events > small.max_events
    assert large.max_decompressed_bytes > small.max_decompressed_bytes
    # everything a request may hold stays within half of what the runtime leaves
    spare = (memory - collect.RUNTIME_MB) * 2**20 // 2
    assert small.max_decompressed_bytes + small.quarantine_record_bytes \
        + small.max_events * 2048 <= spare


# --- the SDK's HTTP sink against a local collector --------------------------------------------


class Collector(LocalServer):
    """The real handler behind HTTP; ``answer`` may override the status per request (sent with
    ``retry_after`` as ``Retry-After`` when set)."""

    def __init__(self, store: LocalStore) -> None:
        self.store = store
        self.answer: Callable[[bytes], tuple[int, bytes] | None] | None = None
        self.retry_after: str | None = None
        super().__init__(self._collect)

    def _collect(self, request: Request) -> Answer:
        override = self.answer(request.body) if self.answer else None
        if override is not None:
            status, payload = override
            return status, {"retry-after": self.retry_after} if self.retry_after else {}, payload
        response = collect.handle_http_event(
            function_url_event(request.body, headers=request.headers), store=self.store,
            secret=SECRET)
        return response["statusCode"], {}, response["body"].encode()


@pytest.fixture
def collector(store: LocalStore) -> Iterator[Collector]:
    with Collector(store) as server:
        yield server


def _sink(server: Collector, **kwargs: Any) -> HttpSink:
    return HttpSink(f"{server.base_url}/", SECRET, backoff=0.01, **kwargs)


def _events(n: int) -> list[UsageEvent]:
    start = datetime(2026, 11, 1, 9, tzinfo=UTC)
    return [UsageEvent(event_id=f"ev-{i}", provider="aws_bedrock", model="m", input_tokens=i,
                       timestamp=start + timedelta(seconds=i)) for i in range(n)]


def test_finding_4_the_sink_keeps_499_good_events_when_one_is_hostile(collector, store,  # type: ignore[no-untyped-def]
                                                                      caplog) -> None:
    events = _events(500)
    # one event whose timestamp cannot be moved to UTC (the collector's 500 before)
    events[250] = UsageEvent.model_construct(
        **{**events[250].__dict__, "event_id": "hostile",
           "timestamp": datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-1)))})
    sink = _sink(collector)
    with caplog.at_level(logging.WARNING, logger="cascadeflow_cloud.sdk"):
        sink.emit(events)
    assert len(collector.requests) == 1 and sink.sent_batches == 1
    assert sink.quarantined_events == 1
    assert len({e.event_id for e in stored(store)}) == 499
    [warning] = [r for r in caplog.records if r.name == "cascadeflow_cloud.sdk"]
    assert "quarantined 1 of 500" in warning.getMessage()
    assert [row["reason"].split(":")[0] for row in quarantined(store)] == ["event 251"]


def test_sink_splits_a_batch_the_collector_finds_too_large(collector, store) -> None:  # type: ignore[no-untyped-def]
    def too_large(body: bytes) -> tuple[int, bytes] | None:
        if gzip.decompress(body).count(b"\n") > 60:
            return 413, json.dumps({"error": "more than 60 events in one batch"}).encode()
        return None

    collector.answer = too_large
    sink = _sink(collector)
    sink.emit(_events(200))
    assert sorted(e.event_id for e in stored(store)) == sorted(f"ev-{i}" for i in range(200))
    assert sink.sent_batches == 4  # 200 → 100 + 100 → four of 50
    assert len(collector.requests) == 1 + 2 + 4


def test_sink_retries_storage_trouble_then_delivers_once(collector, store) -> None:  # type: ignore[no-untyped-def]
    failures = iter([(503, b'{"error": "collector error: ClientError"}')])
    collector.answer = lambda body: next(failures, None)
    sink = _sink(collector)
    sink.emit(_events(3))
    assert len(collector.requests) == 2
    assert sorted(e.event_id for e in stored(store)) == ["ev-0", "ev-1", "ev-2"]


@pytest.mark.parametrize(("status", "fix"), [(400, "could not read the body"),
                                             (401, "sdk.collector_secret"),
                                             (415, "encoding")])
def test_sink_gives_up_on_a_refusal_at_once_with_one_warning(collector, caplog, status,  # type: ignore[no-untyped-def]
                                                             fix) -> None:
    answer: Callable[[bytes], tuple[int, bytes]] = lambda body: (  # noqa: E731
        status, json.dumps({"error": "unreadable body: because"}).encode())
    collector.answer = answer
    sink = _sink(collector, retries=3)
    with caplog.at_level(logging.WARNING, logger="cascadeflow_cloud.sdk"), \
            pytest.raises(CollectorError, match=f"HTTP {status}"):
        sink.emit(_events(5))
    assert len(collector.requests) == 1
    [warning] = [r.getMessage() for r in caplog.records if r.name == "cascadeflow_cloud.sdk"]
    assert f"5 event(s), not retried: HTTP {status}: unreadable body: because" in warning
    assert fix in warning and SECRET not in warning


def test_collector_answers_and_logs_carry_no_prompt_or_raw_user_id(store, caplog) -> None:  # type: ignore[no-untyped-def]
    lines = [good_line(1, user_id="alice@example.com"),
             bad_line('"prompt": "TOP SECRET PROMPT", "user_id": "bob@example.com"'),
             bad_line('"messages": [{"content": "TOP SECRET MESSAGE"}]')]
    with caplog.at_level(logging.DEBUG):
        status, answer = post(store, "\n".join(lines).encode())
    assert status == 200 and (answer["accepted"], answer["quarantined"]) == (1, 2)
    said = json.dumps(answer) + caplog.text
    assert "TOP SECRET" not in said and "@example.com" not in said
    [event] = stored(store)
    assert event.user_id and event.user_id.startswith("u_") and "alice" not in event.user_id


def test_sink_split_halves_fail_alone(collector, store) -> None:  # type: ignore[no-untyped-def]
    def answer(body: bytes) -> tuple[int, bytes] | None:
        lines = gzip.decompress(body)
        if lines.count(b"\n") > 60:
            return 413, b'{"error": "more than 60 events in one batch"}'
        if b'"ev-0"' in lines:
            return 503, b'{"error": "collector error: ClientError"}'
        return None

    collector.answer = answer
    sink = _sink(collector, retries=1)
    with pytest.raises(CollectorError, match=r"unreachable: HTTP 503 .* after 2 attempt"):
        sink.emit(_events(100))
    assert sorted(e.event_id for e in stored(store)) == sorted(f"ev-{i}" for i in range(50, 100))


def test_sink_retries_with_the_one_policy_honouring_retry_after(collector, store) -> None:  # type: ignore[no-untyped-def]
    """The collector sink retries through httpclient.retry: a 503 with ``Retry-After: 3`` is
    waited out on the injected clock (never a hard-coded sleep), then the batch lands."""
    answers = [(503, b'{"error": "busy"}')]

    def answer(body: bytes) -> tuple[int, bytes] | None:
        return answers.pop() if answers else None

    collector.answer = answer
    collector.retry_after = "3"
    clock = FakeClock(1_000_000.0)
    sink = _sink(collector, retries=2, clock=clock)
    sink.emit(_events(3))
    assert clock.sleeps == [3.0]
    assert len(stored(store)) == 3


def test_sink_gives_a_batch_up_when_told_to_wait_longer_than_it_may(collector, store) -> None:  # type: ignore[no-untyped-def]
    collector.answer = lambda body: (429, b'{"error": "slow down"}')
    collector.retry_after = "120"
    clock = FakeClock(1_000_000.0)
    with pytest.raises(CollectorError, match=r"Retry-After 120s: deferred"):
        _sink(collector, retries=3, clock=clock).emit(_events(1))
    assert clock.sleeps == []
    assert stored(store) == []


def test_finding_6_a_collector_trickling_its_answer_is_cut_at_the_sinks_deadline() -> None:
    """The sink's attempt is bounded as a whole (connect + send + read), not per read: a
    collector sending one byte every 0.2 s is given up at the 1 s deadline, then retried."""
    from tests.hostile.notify_support import receiving

    with receiving(trickle=0.2) as receiver:
        receiver.trickle_for = 30.0
        sink = HttpSink(receiver.url("/"), SECRET, timeout=1.0, retries=1, backoff=0.01)
        # a per-read timeout would wait the trickle out (~8 s) and take its 200 as success
        with pytest.raises(CollectorError,
                           match=r"unreachable: timed out: .*1 s deadline.* after 2 attempt"):
            sink.emit(_events(2))
    assert len(receiver.received) == 2  # both tries reached it; each was cut at the deadline


@pytest.mark.parametrize("pieces", [[b"[null, []]"], [b"[null, []", b"]"], [b"[null,  ", b"  []]"]])
def test_blanks_before_an_item_never_count_against_its_limit(pieces: list[bytes]) -> None:
    """Found by the property suite in a clean-clone run: the blank after a comma made a
    2-byte element "longer than 2 bytes" when the body was cut inside that element."""
    from cascadeflow_cloud.jobs.collect_body import Refused, items

    assert list(items(pieces, max_item_bytes=2)) == [Refused("longer than 2 bytes"), b"[]"]
