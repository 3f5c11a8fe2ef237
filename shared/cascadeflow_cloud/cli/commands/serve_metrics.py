"""``serve-metrics [--port] [--addr]``: serve the lake's figures to Prometheus at /metrics."""

from __future__ import annotations

import argparse
import sys
import threading

from cascadeflow_cloud.cli.context import EXIT_OK, CliContext


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve-metrics", help="serve LLM cost metrics for Prometheus to scrape")
    p.add_argument("--port", type=int, default=9464, help="port (default: 9464)")
    p.add_argument("--addr", default="127.0.0.1",
                   help="address to bind (default: 127.0.0.1; 0.0.0.0 for all interfaces)")
    p.add_argument("--cache-seconds", type=float, default=300.0,
                   help="reuse the figures read from the lake for this long (default: 300)")
    p.add_argument("--include-customer", action="store_true",
                   help="add a customer label to llm_cost_total / llm_requests_total "
                        "(only when the number of customers is small)")
    p.set_defaults(func=run)


def run(ctx: CliContext, args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    from cascadeflow_cloud.exports.prometheus import serve

    server, _thread = serve(ctx.store, port=args.port, addr=args.addr,
                            ttl_seconds=args.cache_seconds,
                            include_customer=args.include_customer)
    host, port = server.server_address[:2]
    print(f"serving metrics for {ctx.store.url} at http://{host}:{port}/metrics "
          "(Ctrl-C to stop)", file=sys.stderr, flush=True)
    try:
        (stop or threading.Event()).wait()
    finally:
        server.shutdown()
        server.server_close()
    return EXIT_OK
