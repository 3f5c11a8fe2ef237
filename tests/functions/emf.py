"""Reading what a handler printed: the CloudWatch EMF blobs among its stdout lines."""

from __future__ import annotations

import json
from typing import Any


def emf_blobs(out: str) -> list[dict[str, Any]]:
    """Every EMF JSON line in ``out``, one-element list values unwrapped (Powertools writes
    ``"Delivered": [2.0]``)."""
    blobs = [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]
    return [{k: v[0] if isinstance(v, list) and len(v) == 1 else v for k, v in blob.items()}
            for blob in blobs]


def metric_names(blob: dict[str, Any]) -> set[str]:
    """The metric names an EMF blob declares."""
    [directive] = blob["_aws"]["CloudWatchMetrics"]
    return {m["Name"] for m in directive["Metrics"]}


def namespace(blob: dict[str, Any]) -> str:
    """The CloudWatch namespace of an EMF blob."""
    return str(blob["_aws"]["CloudWatchMetrics"][0]["Namespace"])
