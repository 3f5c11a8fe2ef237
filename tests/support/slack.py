"""``texts``: every text a Slack message shows (each ``text`` string of its blocks, nested).

>>> texts({"text": "fallback", "blocks": [{"type": "section", "text": {"type": "mrkdwn",
...        "text": "*ml* passed 90%"}}, {"type": "context", "elements": [{"text": "p50"}]}]})
['fallback', '*ml* passed 90%', 'p50']
"""

from __future__ import annotations

from typing import Any


def texts(node: Any) -> list[str]:
    """The ``text`` strings of ``node`` and everything under it, depth first."""
    if isinstance(node, dict):
        out = [node["text"]] if isinstance(node.get("text"), str) else []
        return out + [t for v in node.values() for t in texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in texts(v)]
    return []
