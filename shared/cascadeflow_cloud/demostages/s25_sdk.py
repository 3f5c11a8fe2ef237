"""Stage: wrap a real ``openai.AzureOpenAI`` client (pointed at a tiny local stand-in for Azure
on 127.0.0.1), make a few attributed calls — one of them streamed — and ship the events into the
lake through the SDK's queue and store sink.

The stand-in answers with the recorded shapes of Azure OpenAI chat completions (JSON and SSE,
with the final usage chunk). Events are stamped on the demo's last day so they appear in its
report even when ``--end`` is in the past.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cascadeflow_cloud.demo import DEMO_HMAC_KEY, DemoContext
from cascadeflow_cloud.schema import UsageEvent

_MODEL = "gpt-4o-2024-08-06"
_USAGE = {"prompt_tokens": 1800, "completion_tokens": 420, "total_tokens": 2220,
          "prompt_tokens_details": {"cached_tokens": 1024},
          "completion_tokens_details": {"reasoning_tokens": 0}}


class _FakeAzure(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        return None

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["content-length"])) or b"{}")
        base = {"id": "chatcmpl-demo", "created": 1735689600, "model": _MODEL}
        if request.get("stream"):
            words = ["Spend", " is", " on", " track."]
            parts = [{**base, "object": "chat.completion.chunk", "choices": [
                {"index": 0, "delta": {"content": w}, "finish_reason": None}]} for w in words]
            if (request.get("stream_options") or {}).get("include_usage"):
                parts.append({**base, "object": "chat.completion.chunk", "choices": [],
                              "usage": _USAGE})
            body = b"".join(b"data: " + json.dumps(p).encode() + b"\n\n" for p in parts)
            body += b"data: [DONE]\n\n"
            content_type = "text/event-stream"
        else:
            body = json.dumps({**base, "object": "chat.completion", "usage": _USAGE,
                               "choices": [{"index": 0, "finish_reason": "stop", "message": {
                                   "role": "assistant", "content": "Spend is on track."}}]}
                              ).encode()
            content_type = "application/json"
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def run(ctx: DemoContext) -> None:
    import openai

    from cascadeflow_cloud.pricing import Pricer
    from cascadeflow_cloud.reporting import format_report, spend_report
    from cascadeflow_cloud.sdk import attribution, wrap
    from cascadeflow_cloud.sdk.queue import QueueSink
    from cascadeflow_cloud.sdk.sinks.store import StoreSink

    end = ctx.end

    class DemoDaySink(StoreSink):
        """The store sink, with events moved onto the demo's last day."""

        def emit(self, events: Sequence[UsageEvent]) -> None:
            moved = [e.model_copy(update={"timestamp": datetime.combine(
                end, e.timestamp.timetz()).replace(tzinfo=UTC)}) for e in events]
            super().emit(moved)

    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeAzure)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sink = DemoDaySink(ctx.store)
    queue = QueueSink(sink, pricer=Pricer(), hmac_key=DEMO_HMAC_KEY, flush_interval=60)
    try:
        raw = openai.AzureOpenAI(azure_endpoint=f"http://127.0.0.1:{server.server_port}",
                                 api_key="demo-not-a-key", api_version="2024-10-21",
                                 max_retries=0)
        client = wrap(raw, sink=queue, team="sdk-demo", tags={"feature": "assistant"})
        messages = [{"role": "user", "content": "How is our LLM spend this month?"}]
        with attribution(customer_id="cus_acme", user_id="alice@example.com"):
            for _ in range(3):
                client.chat.completions.create(model="prod-chat", messages=messages)
            words = [c.choices[0].delta.content for c in client.chat.completions.create(
                model="prod-chat", messages=messages, stream=True) if c.choices]
        client.chat.completions.create(model="prod-chat", messages=messages,
                                       cascadeflow_attribution={"customer_id": "cus_globex"})
        queue.flush(10)
    finally:
        queue.close()
        server.shutdown()
        server.server_close()
    stats = queue.stats()
    ctx.say(f"  wrapped openai.AzureOpenAI → 127.0.0.1 stand-in; 5 calls (1 streamed: "
            f"{''.join(w or '' for w in words)!r})")
    ctx.say(f"  {stats['emitted']} events → {len(sink.keys)} batch(es) under events/ "
            f"(dropped {stats['dropped']}, unpriced models {len(stats['unpriced_models'])})")
    events = ctx.lake.read_events(end, end)
    rows = [r for r in spend_report(ctx.lake.read_costs(end, end), events, by="team")
            if r.key == "sdk-demo"]
    ctx.say("  " + format_report(rows, by="team").replace("\n", "\n  "))
    ctx.try_next.append(f"report --by team --since {end.isoformat()}")
