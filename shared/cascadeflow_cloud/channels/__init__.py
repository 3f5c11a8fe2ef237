"""Delivery channels: Slack, signed webhooks, Stripe meter events and a local file.

Each destination implements ``channels.base.Destination`` (``send(alert, fence=) -> Delivery``).
Network destinations go through ``ssrf.check_url`` and ``http.deliver`` (pinned address,
no redirects, retries with backoff, one whole-attempt deadline from ``deadline``, the claim
renewed before every attempt through a ``Fence``). Importing this package imports no SDK.
"""
