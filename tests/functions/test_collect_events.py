"""The collector handler: signatures, validation, quarantine, idempotency, light imports, and
the whole path from a wrapped client to ``report --by team`` / ``--by customer``."""

from __future__ import annotations

import base64
import gzip
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from cascadeflow_cloud.jobs import collect as collect_job
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.schema import UsageEvent
from cascadeflow_cloud.signing import sign_headers
from tests.support.http import Answer, LocalServer, Request

SECRET = "collector-test-secret"


def _event(body: bytes, headers: dict[str, str], *, b64: bool = True) -> dict[str, Any]:
    return {"version": "2.0", "routeKey": "$default", "rawPath": "/",
            "headers": headers, "isBase64Encoded": b64,
            "body": base64.b64encode(body).decode() if b64 else body.decode(),
            "requestContext": {"http": {"method": "POST", "path": "/"}}}


@pytest.fixture
def collector_env(tmp_path, monkeypatch) -> Iterator[LocalStore]:
    monkeypatch.setenv("CASCADEFLOW_STORE", f"file://{tmp_path / 'lake'}")
    monkeypatch.setenv("CASCADEFLOW_COLLECTOR_SECRET", SECRET)
    monkeypatch.setenv("CASCADEFLOW_HMAC_KEY", "pepper")
    config = tmp_path / "cascadeflow.yaml"
    config.write_text("privacy:\n  hmac_key: env:CASCADEFLOW_HMAC_KEY\n")
    monkeypatch.setenv("CASCADEFLOW_CONFIG", str(config))
    collect_job._runtime_config.cache_clear()
    yield LocalStore(tmp_path / "lake")
    collect_job._runtime_config.cache_clear()


def _lines(*events: UsageEvent) -> bytes:
    return "".join(e.model_dump_json() + "\n" for e in events).encode()


def test_handler_imports_no_heavy_library() -> None:
    code = ("import sys, json, functions.collect_events; "
            "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    loaded = set(json.loads(out.splitlines()[-1]))
    assert not {m for m in loaded if m.split(".")[0] in ("pandas", "pyarrow", "statsmodels")}


def test_stores_good_quarantines_bad_and_pseudonymises(collector_env):
    from functions.collect_events import handler

    good = UsageEvent(provider="aws_bedrock", model="anthropic.claude-3-haiku-20240307-v1:0",
                      input_tokens=5, user_id="alice@example.com", team="search")
    body = gzip.compress(_lines(good) + b'{"provider": "aws", "model": "m"}\n'
                         + b'{"provider": "gcp_vertex", "model": "g", "prompt": "secret"}\n')
    headers = {"content-encoding": "gzip", **sign_headers(body, SECRET)}
    response = handler(_event(body, headers), None)
    assert response["statusCode"] == 200
    result = json.loads(response["body"])
    assert (result["accepted"], result["quarantined"]) == (1, 2)
    assert any("provider" in r and "'aws'" in r for r in result["reasons"])
    assert any("prompt" in r for r in result["reasons"])
    [key] = [k for k in collector_env.list("events/") if k.endswith(".jsonl.gz")]
    stored = json.loads(gzip.decompress(collector_env.get(key).data))
    assert stored["user_id"].startswith("u_") and "alice" not in stored["user_id"]
    quarantined = list(collector_env.list("quarantine/events/"))
    assert len(quarantined) == 1
    rows = [json.loads(x) for x in collector_env.get(quarantined[0]).data.splitlines()]
    assert all(r["reason"] and r["origin"] == "collector" for r in rows)


@pytest.mark.parametrize("mutate", ["wrong-secret", "tampered", "stale", "missing"])
def test_rejects_unauthentic_requests(collector_env, mutate):
    from functions.collect_events import handler

    body = _lines(UsageEvent(provider="gcp_vertex", model="gemini-2.5-flash"))
    headers = sign_headers(body, "other-secret" if mutate == "wrong-secret" else SECRET,
                           timestamp=1 if mutate == "stale" else None)
    if mutate == "tampered":
        body = body.replace(b"flash", b"pro")
    if mutate == "missing":
        headers = {}
    response = handler(_event(body, headers), None)
    assert response["statusCode"] == 401
    assert list(collector_env.list("events/")) == []


def test_retried_batch_is_idempotent(collector_env):
    from functions.collect_events import handler

    from cascadeflow_cloud.lake.tables import Lake

    events = [UsageEvent(provider="azure_openai", model="gpt-4o", input_tokens=i + 1)
              for i in range(3)]
    body = _lines(*events)
    for _ in range(2):
        response = handler(_event(body, sign_headers(body, SECRET), b64=False), None)
        assert response["statusCode"] == 200
    # a different batch repeating one event id
    again = _lines(events[0], UsageEvent(provider="azure_openai", model="gpt-4o"))
    assert handler(_event(again, sign_headers(again, SECRET)), None)["statusCode"] == 200
    assert len(list(collector_env.list("events/"))) == 2
    assert Lake(collector_env).read_events().num_rows == 4


def _collector_http(request: Request) -> Answer:
    """Turns an HTTP request into the function-URL event the Lambda receives."""
    from functions.collect_events import handler

    response = handler(_event(request.body, request.headers), None)
    return response["statusCode"], {}, response["body"].encode()


def test_wrapped_client_to_collector_to_report(collector_env, tmp_path, capsys):
    import boto3
    from botocore.stub import Stubber

    from cascadeflow_cloud.cli import main
    from cascadeflow_cloud.sdk import attribution, wrap
    from cascadeflow_cloud.sdk.queue import QueueSink
    from cascadeflow_cloud.sdk.sinks.http import HttpSink

    with LocalServer(_collector_http) as server:
        sink = HttpSink(f"{server.base_url}/", "env:CASCADEFLOW_COLLECTOR_SECRET")
        queue = QueueSink(sink, flush_interval=60)
        raw = boto3.client("bedrock-runtime", region_name="us-east-1")
        client = wrap(raw, sink=queue, team="search")
        usage = {"inputTokens": 1000, "outputTokens": 200, "totalTokens": 1200}
        with Stubber(raw) as stub:
            for _ in range(3):
                stub.add_response("converse", {
                    "output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
                    "stopReason": "end_turn", "usage": usage, "metrics": {"latencyMs": 5}})
            with attribution(customer_id="cus_acme"):
                client.converse(modelId="anthropic.claude-3-haiku-20240307-v1:0",
                                messages=[{"role": "user", "content": [{"text": "hi"}]}])
                client.converse(modelId="anthropic.claude-3-haiku-20240307-v1:0",
                                messages=[{"role": "user", "content": [{"text": "hi"}]}],
                                cascadeflow_attribution={"team": "support"})
            client.converse(modelId="anthropic.claude-3-haiku-20240307-v1:0",
                            messages=[{"role": "user", "content": [{"text": "hi"}]}],
                            cascadeflow_attribution={"customer_id": "cus_globex"})
        assert queue.flush(10)
        assert queue.stats()["emitted"] == 3 and sink.sent_batches == 1
        queue.close()

    store_url = f"file://{tmp_path / 'lake'}"
    # $0.25 input / $1.25 output per M for Claude 3 Haiku: 0.0005 per call
    assert main(["--store", store_url, "report", "--by", "team"]) == 0
    out = capsys.readouterr().out
    assert "search" in out and "support" in out
    search_line = next(line for line in out.splitlines() if line.startswith("search"))
    # team, currency, billed (—), tracked, [bill: blank, no bill], unpriced_calls, calls
    assert search_line.split()[3] == "0.00" and search_line.split()[5] == "2"
    assert main(["--store", store_url, "report", "--by", "customer"]) == 0
    out = capsys.readouterr().out
    assert "cus_acme" in out and "cus_globex" in out
    acme = next(line for line in out.splitlines() if line.startswith("cus_acme"))
    assert acme.split()[5] == "2"
    from decimal import Decimal

    from cascadeflow_cloud.lake.tables import Lake, group_sum

    events = Lake(LocalStore(tmp_path / "lake")).read_events()
    assert group_sum(events, ["team"], "estimated_cost") == {
        ("search",): Decimal("0.001"), ("support",): Decimal("0.0005")}
    assert group_sum(events, ["customer_id"], "estimated_cost") == {
        ("cus_acme",): Decimal("0.001"), ("cus_globex",): Decimal("0.0005")}


def test_a_rotated_secret_is_picked_up_by_a_warm_collector(collector_env, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from functions.collect_events import handler

    body = _lines(UsageEvent(provider="gcp_vertex", model="gemini-2.5-flash", input_tokens=1))
    assert handler(_event(body, sign_headers(body, SECRET)), None)["statusCode"] == 200
    monkeypatch.setenv("CASCADEFLOW_COLLECTOR_SECRET", "rotated-secret")  # same warm container
    assert handler(_event(body, sign_headers(body, SECRET)), None)["statusCode"] == 401
    assert handler(_event(body, sign_headers(body, "rotated-secret")), None)["statusCode"] == 200


def test_http_sink_never_follows_a_redirect() -> None:
    from cascadeflow_cloud.sdk.sinks.http import CollectorError, HttpSink

    with LocalServer((200, {}, b"")) as target, LocalServer(
            (302, {"location": f"{target.base_url}/elsewhere"}, b"")) as redirector:
        sink = HttpSink(f"{redirector.base_url}/", SECRET, retries=0)
        with pytest.raises(CollectorError, match="302"):
            sink.emit([UsageEvent(provider="aws_bedrock", model="m")])
        assert len(redirector.requests) == 1 and target.requests == []
        assert sink.sent_batches == 0


def test_http_sink_signs_with_sigv4_for_an_aws_iam_function_url() -> None:
    from cascadeflow_cloud.sdk.sinks.http import HttpSink

    with LocalServer((200, {}, b"")) as server:
        sink = HttpSink(f"{server.base_url}/", SECRET, sigv4=True, region="eu-west-1")
        sink.emit([UsageEvent(provider="aws_bedrock", model="m")])
        (headers,) = [r.headers for r in server.requests]
        auth = headers["authorization"]
        assert auth.startswith("AWS4-HMAC-SHA256 Credential=testing/")
        assert "/eu-west-1/lambda/aws4_request" in auth
        assert "x-amz-date" in headers and "webhook-signature" in headers
    with pytest.raises(ValueError, match="region"):
        HttpSink("https://collector.example.com/", SECRET, sigv4=True)
    assert HttpSink("https://abc.lambda-url.us-west-2.on.aws/", SECRET, sigv4=True).region \
        == "us-west-2"


def test_collector_batches_are_the_lake_writers_batches(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The collector holds lines, not events, but writes the same keys and bytes as
    ``eventlog.write_event_batches`` (so a retried batch overwrites itself either way)."""
    from datetime import UTC, datetime

    from cascadeflow_cloud.lake.eventlog import write_event_batches

    events = [UsageEvent(event_id=f"e{i}", provider="gcp_vertex", model="gemini-2.5-flash",
                         input_tokens=i, timestamp=datetime(2026, 11, 1 + i % 3, tzinfo=UTC))
              for i in range(7)]
    body = _lines(*events)
    ours, theirs = LocalStore(tmp_path / "collector"), LocalStore(tmp_path / "writer")
    result = collect_job.collect(body, sign_headers(body, SECRET), store=ours, secret=SECRET)
    assert result.status == 200 and result.accepted == 7
    assert sorted(result.keys) == sorted(write_event_batches(theirs, events))
    assert all(ours.get(key).data == theirs.get(key).data for key in result.keys)


def test_storage_trouble_is_the_only_500(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = LocalStore(tmp_path / "lake")
    (tmp_path / "lake" / "events").write_text("")  # a file where the events folder goes
    body = _lines(UsageEvent(provider="gcp_vertex", model="gemini-2.5-flash"))
    response = collect_job.handle_http_event(_event(body, sign_headers(body, SECRET)), store=store,
                                             secret=SECRET)
    assert response["statusCode"] == 500
    assert json.loads(response["body"])["error"].startswith("collector error: ")
    odd = _event(body, sign_headers(body, SECRET))
    odd["headers"] = ["not", "a", "mapping"]
    assert collect_job.handle_http_event(odd, store=store, secret=SECRET)["statusCode"] == 401
