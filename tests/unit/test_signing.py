"""Issue 17 finding 3: one signing scheme. Standard Webhooks for outgoing webhooks, the SDK's
collector sink and the collector, checked against the reference ``standardwebhooks`` library;
the collector's former ``x-cascadeflow-*`` headers are still accepted for one release."""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import standardwebhooks
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cascadeflow_cloud.errors import CascadeFlowError
from cascadeflow_cloud.jobs import collect as collect_job
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.schema import UsageEvent
from cascadeflow_cloud.sdk.sinks.http import HttpSink
from cascadeflow_cloud.signing import (
    SignatureError,
    content_id,
    key_bytes,
    sign_headers,
    signature,
    verify,
)
from tests.support.http import Answer, LocalServer, Request

WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
RAW = "a-raw-collector-secret"  # the kind of secret collectors were configured with so far


def _body(*models: str) -> bytes:
    return "".join(UsageEvent(provider="gcp_vertex", model=m, input_tokens=3).model_dump_json()
                   + "\n" for m in models).encode()


def _legacy(body: bytes, secret: str, ts: int) -> dict[str, str]:
    """The former SDK's headers, written out here independently of the library."""
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return {"x-cascadeflow-timestamp": str(ts), "x-cascadeflow-signature": "v1=" + digest}


def _official(secret: str | bytes, body: bytes, msg_id: str, at: datetime) -> dict[str, str]:
    hook = standardwebhooks.Webhook(secret)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": hook.sign(msg_id, at, body.decode())}


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "lake")


# --- the SDK's signature verifies with the reference library, and the reverse -------------

@pytest.mark.parametrize(("secret", "reference_key"), [(WHSEC, WHSEC), (RAW, RAW.encode())])
def test_finding_3_sdk_signed_body_verifies_with_the_official_library(
        secret: str, reference_key: str | bytes) -> None:
    body = _body("gemini-2.5-flash")
    headers = sign_headers(body, secret)
    parsed = standardwebhooks.Webhook(reference_key).verify(body, headers)
    assert parsed["model"] == "gemini-2.5-flash"
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(reference_key).verify(body.replace(b"flash", b"pro"), headers)


@pytest.mark.parametrize(("secret", "reference_key"), [(WHSEC, WHSEC), (RAW, RAW.encode())])
def test_finding_3_official_library_signed_body_verifies_in_our_collector(
        store: LocalStore, secret: str, reference_key: str | bytes) -> None:
    body = _body("gemini-2.5-flash", "gemini-2.5-pro")
    headers = _official(reference_key, body, "msg_batch1", datetime.now(UTC))
    result = collect_job.collect(body, headers, store=store, secret=secret)
    assert (result.status, result.accepted) == (200, 2)
    assert collect_job.collect(body, headers, store=store, secret="another").status == 401


@pytest.fixture
def collector(store: LocalStore) -> Iterator[LocalServer]:
    """A local collector: scripted answers first, then the real ``handle_http_event``."""

    def collect(request: Request) -> Answer:
        response = collect_job.handle_http_event(
            {"headers": request.headers, "isBase64Encoded": True,
             "body": base64.b64encode(request.body).decode()},
            store=store, secret=RAW)
        return response["statusCode"], {}, response["body"].encode()

    with LocalServer(collect) as server:
        yield server


def test_finding_3_http_sink_batches_verify_in_the_collector_and_keep_their_id_on_retry(
        collector: LocalServer, store: LocalStore) -> None:
    collector.respond((503, {}, b"{}"))  # the first try fails; the retry reaches the collector
    sink = HttpSink(f"{collector.base_url}/", RAW, retries=1, backoff=0)
    events = [UsageEvent(provider="aws_bedrock", model=m) for m in ("a", "b")]
    sink.emit(events)
    assert sink.sent_batches == 1 and len(collector.requests) == 2
    (first_body, first), (body, second) = [(r.body, r.headers) for r in collector.requests]
    assert "x-cascadeflow-signature" not in second
    assert first["webhook-id"] == second["webhook-id"] == content_id(body)
    assert first_body == body and gzip.decompress(body).count(b"\n") == 2
    assert verify(body, second, RAW) == second["webhook-id"]
    assert len(list(store.list("events/"))) == 1  # stored by the collector it verified with


# --- the collector's rules --------------------------------------------------------------

def test_finding_3_replay_outside_the_tolerance_is_refused(store: LocalStore) -> None:
    body = _body("m")
    now = time.time()
    for offset, status in ((-301, 401), (301, 401), (-290, 200), (290, 200)):
        headers = sign_headers(body, RAW, timestamp=int(now) + offset)
        result = collect_job.collect(body, headers, store=store, secret=RAW, now=now)
        assert result.status == status, offset
    stale = _official(WHSEC, body, "msg_old", datetime.fromtimestamp(now - 600, UTC))
    result = collect_job.collect(body, stale, store=store, secret=WHSEC, now=now)
    assert (result.status, result.error) == (401, "unauthorised: timestamp outside the "
                                                  "tolerance window")


def test_finding_3_tampered_body_or_id_is_refused(store: LocalStore) -> None:
    body = _body("gemini-2.5-flash")
    headers = sign_headers(body, WHSEC)
    tampered = body.replace(b"flash", b"pro")
    assert collect_job.collect(tampered, headers, store=store, secret=WHSEC).status == 401
    other_id = {**headers, "webhook-id": "msg_other"}
    assert collect_job.collect(body, other_id, store=store, secret=WHSEC).status == 401
    assert list(store.list("events/")) == []


def test_finding_3_rotation_any_secret_any_signature() -> None:
    new, old = "whsec_" + "A" * 32 + "==", WHSEC
    body = b'{"x": 1}'
    both = sign_headers(body, [new, old], msg_id="msg_r", timestamp=1_700_000_000)
    assert len(both["webhook-signature"].split()) == 2
    for keys in ([old], [new], [RAW, new]):
        assert verify(body, both, keys, now=1_700_000_000) == "msg_r"
    with pytest.raises(SignatureError, match="does not match"):
        verify(body, both, [RAW], now=1_700_000_000)
    # unknown versions and malformed entries are skipped, a later good entry still counts
    mixed = {**both, "webhook-signature": "v1a,AAAA v1,!!! v1 " + both["webhook-signature"]}
    assert verify(body, mixed, [old], now=1_700_000_000) == "msg_r"
    # the reference library reads the same two-signature header with either secret
    for secret in (new, old):
        hook = standardwebhooks.Webhook(secret)
        assert hook.sign("msg_r", datetime.fromtimestamp(1_700_000_000, UTC),
                         body.decode()) in both["webhook-signature"].split()


def test_finding_3_collector_accepts_a_rotating_sender(store: LocalStore) -> None:
    body = _body("m")
    headers = sign_headers(body, ["the-next-secret", RAW])
    assert collect_job.collect(body, headers, store=store, secret=RAW).status == 200


def test_finding_3_old_headers_are_accepted_for_one_release(store: LocalStore) -> None:
    body = _body("gemini-2.5-flash")
    now = int(time.time())
    result = collect_job.collect(body, _legacy(body, RAW, now), store=store, secret=RAW)
    assert (result.status, result.accepted) == (200, 1)
    refused = [_legacy(body.replace(b"flash", b"pro"), RAW, now),  # tampered
               _legacy(body, "another", now),  # wrong secret
               _legacy(body, RAW, now - 301)]  # stale
    for headers in refused:
        assert collect_job.collect(body, headers, store=store, secret=RAW).status == 401


def test_finding_3_new_headers_are_preferred_over_the_old(store: LocalStore) -> None:
    body = _body("m")
    now = int(time.time())
    good_new, good_old = sign_headers(body, RAW), _legacy(body, RAW, now)
    bad_new = {**good_new, "webhook-signature": signature("another", content_id(body), now,
                                                          body)}
    bad_old = _legacy(body, "another", now)
    assert collect_job.collect(body, {**bad_old, **good_new}, store=store,
                               secret=RAW).status == 200
    assert collect_job.collect(body, {**good_old, **bad_new}, store=store,
                               secret=RAW).status == 401  # the new headers decide


def test_finding_3_old_headers_are_logged_once_per_container(tmp_path: Path) -> None:
    body = _body("m")
    code = (
        "import json, logging, sys, time\n"
        "from cascadeflow_cloud.jobs.collect import collect\n"
        "from cascadeflow_cloud.lake.store import LocalStore\n"
        "logging.basicConfig(stream=sys.stderr, format='%(levelname)s %(message)s')\n"
        "body, legacy, new = (json.loads(a) for a in sys.argv[1:4])\n"
        "store = LocalStore(sys.argv[4])\n"
        "for headers in (legacy, legacy, new, legacy):\n"
        "    print(collect(body.encode(), headers, store=store, secret=sys.argv[5]).status)\n")
    args = [json.dumps(body.decode()), json.dumps(_legacy(body, RAW, int(time.time()))),
            json.dumps(sign_headers(body, RAW)), str(tmp_path / "lake"), RAW]
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["200"] * 4
    warnings = [line for line in done.stderr.splitlines() if "deprecated" in line]
    assert len(warnings) == 1 and warnings[0].startswith("WARNING ")
    assert "x-cascadeflow-signature" in warnings[0] and "webhook-signature" in warnings[0]
    assert RAW not in done.stderr


def test_finding_3_missing_headers_name_the_new_ones(store: LocalStore) -> None:
    result = collect_job.collect(b"{}", {}, store=store, secret=RAW)
    assert result.status == 401 and result.error is not None
    assert "webhook-signature" in result.error


# --- the secret → key mapping both sides share -------------------------------------------

def test_finding_3_secret_mapping() -> None:
    assert key_bytes(RAW) == RAW.encode()
    assert key_bytes(WHSEC) == standardwebhooks.Webhook(WHSEC)._whsecret
    with pytest.raises(CascadeFlowError, match="at least 24"):
        key_bytes("whsec_c2hvcnQ=")
    with pytest.raises(CascadeFlowError, match="empty"):
        key_bytes("")


def test_finding_3_a_bad_whsec_collector_secret_is_a_setup_error_not_a_401(
        store: LocalStore) -> None:
    body = _body("m")
    response = collect_job.handle_http_event(
        {"headers": sign_headers(body, RAW), "body": body.decode()}, store=store,
        secret="whsec_c2hvcnQ=")
    assert response["statusCode"] == 500 and RAW not in response["body"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.text(max_size=200), msg_id=st.from_regex(r"msg_[A-Za-z0-9_-]{1,30}",
                                                       fullmatch=True),
       ts=st.integers(min_value=1_000_000_000, max_value=4_000_000_000),
       key=st.binary(min_size=24, max_size=64))
def test_finding_3_signature_equals_the_reference_library(body: str, msg_id: str, ts: int,
                                                          key: bytes) -> None:
    ours = signature(key, msg_id, ts, body.encode())
    theirs = standardwebhooks.Webhook(key).sign(msg_id, datetime.fromtimestamp(ts, UTC), body)
    assert ours == theirs
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": theirs}
    assert verify(body.encode(), headers, key, now=ts) == msg_id
