"""A file channel: each alert appended as one JSON line (the webhook envelope).

For local use and the demo: ``tail -f alerts.jsonl`` shows what Slack or a webhook would get.

>>> import tempfile, json, pathlib
>>> from cascadeflow_cloud.alerts.model import Alert
>>> path = pathlib.Path(tempfile.mkdtemp()) / "alerts.jsonl"
>>> dest = FileDestination("local", path)
>>> a = Alert(type="cost.budget.threshold", scope="ml", period="p", rule="threshold",
...           threshold="0.7", basis="actual", title="t", summary="s")
>>> dest.send(a).outcome, json.loads(path.read_text())["type"]
('delivered', 'cost.budget.threshold')
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from cascadeflow_cloud.alerts.model import Alert
from cascadeflow_cloud.httpclient.retry import ClaimLost, Delivery, Fence

#: How long one append may take (the claim is held at least this long before writing).
WRITE_SECONDS = 5.0


class FileDestination:
    """Append alerts as JSON lines to ``path`` (created with its folder)."""

    concurrent = True  # each line is one append (O_APPEND): concurrent sends never interleave

    def __init__(self, name: str, path: str | os.PathLike[str],
                 events: Sequence[str] = ()) -> None:
        self.name = name
        self.path = Path(path)
        self.events = list(events)

    def preview(self, alert: Alert) -> str:
        return f"append {alert.type} {alert.id} to {self.path}"

    def send(self, alert: Alert, *, fence: Fence | None = None) -> Delivery:
        if fence is not None:
            try:
                fence(WRITE_SECONDS)
            except ClaimLost as exc:
                return Delivery(outcome="lost", detail=f"claim lost to another run ({exc})")
        line = json.dumps(alert.envelope(), sort_keys=True, default=str) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode())  # one write: lines of concurrent sends stay whole
            finally:
                os.close(fd)
        except OSError as exc:
            return Delivery(outcome="failed", attempts=1,
                            detail=f"cannot write {self.path}: {exc.strerror}")
        return Delivery(outcome="delivered", attempts=1, detail=f"appended to {self.path}")
