"""Delivery channels: Slack, signed webhooks, Stripe meter events and a local file.

Each destination implements ``channels.base.Destination`` (``send(alert) -> Delivery``).
Network destinations go through ``ssrf.check_url`` and ``http.deliver`` (pinned address,
no redirects, retries with backoff). Importing this package imports no SDK.
"""
