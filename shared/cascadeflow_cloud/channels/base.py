"""The one protocol every alert channel implements, and the routing of alerts to channels.

>>> from cascadeflow_cloud.alerts.model import Alert
>>> a = Alert(type="cost.anomaly.detected", scope="total", period="2026-11-13",
...           rule="anomaly", threshold="", basis="x", title="t", summary="s")
>>> accepts(["cost.budget.threshold"], a), accepts([], a), accepts(["cost.anomaly.*"], a)
(False, True, True)
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from typing import Protocol

from cascadeflow_cloud.alerts.model import Alert
from cascadeflow_cloud.httpclient.retry import Delivery, Fence


class Destination(Protocol):
    """Somewhere an alert can be sent. ``send`` never raises for delivery problems: it returns
    a ``Delivery`` whose outcome is delivered, deferred, failed, disabled or lost.

    ``fence``, when given, is called before every attempt with that attempt's deadline; it
    renews the claim of the item for that long or raises ``ClaimLost`` (then ``send`` returns
    ``lost`` without making the attempt)."""

    @property
    def name(self) -> str: ...

    @property
    def events(self) -> Sequence[str]: ...

    def send(self, alert: Alert, *, fence: Fence | None = None) -> Delivery: ...

    def preview(self, alert: Alert) -> str: ...


def accepts(events: Sequence[str], alert: Alert) -> bool:
    """An empty ``events`` list accepts every type; entries may use ``*`` wildcards."""
    return not events or any(fnmatch.fnmatchcase(alert.type, pattern) for pattern in events)
