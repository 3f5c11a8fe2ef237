"""How long each part of the lake is kept: one decision per key prefix the code writes.

Keys live under the lake prefix (``s3://<bucket>/<prefix>/…``). The lake's Terraform module
(``infra/modules/lake``) turns the ``expire`` decisions into lifecycle rules under that prefix;
``tests/infra/test_lifecycle.py`` checks the two agree and that every key a demo run writes
falls under one of these prefixes.

>>> retention_of("quarantine/events/date=2026-11-01/b.jsonl")
'quarantine'
>>> retention_of("costs/source=aws_bedrock/scope=a/month=2026-11/part-0.parquet")
'keep'
"""

from __future__ import annotations

from typing import Literal

Retention = Literal["keep", "quarantine", "run_artifacts"]

#: Prefix → decision. ``keep``: data nothing else holds (the bill's history, SDK events, the
#: exactly-once alert state, pending alerts) or a ``latest`` object rewritten every run.
#: ``quarantine``: refused input and dead-lettered alerts, kept long enough to inspect and
#: replay (``quarantine_expiry_days``). ``run_artifacts``: one object per scheduled run, kept
#: for audit (``run_artifacts_expiry_days``).
RETENTION: dict[str, Retention] = {
    "costs/": "keep",
    "events/": "keep",
    "state/": "keep",
    "outbox/": "keep",
    "projections/latest.jsonl.gz": "keep",
    "projections/run=": "run_artifacts",
    "projections/latest/": "keep",  # lakes written before one object per run
    "projections/budget=": "run_artifacts",
    "reconciliation/latest.json": "keep",
    "reconciliation/run=": "run_artifacts",
    "findings/latest.json": "keep",
    "findings/run=": "run_artifacts",
    "quarantine/": "quarantine",
    "deadletter/": "quarantine",
    # the published dashboard: publish_dashboard replaces it and deletes the older builds itself
    "site/": "keep",
}


def retention_of(key: str) -> Retention | None:
    """The decision for a lake key (the longest matching prefix), None if it has none."""
    best = max((p for p in RETENTION if key.startswith(p)), key=len, default=None)
    return RETENTION[best] if best is not None else None
