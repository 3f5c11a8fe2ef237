"""The one HTTP client: whole-attempt deadlines, one transport, one retry policy.

* ``deadline`` — connect + TLS + send + read bounded together (``Deadline``);
* ``transport`` — ``Target`` (where to connect; SSRF-checked by ``channels.ssrf`` for
  user-supplied URLs), ``PinnedTransport`` (``http.client``, never follows redirects) and the
  injectable ``Clock``;
* ``retry`` — ``RetryPolicy`` (exponential backoff, full jitter, ``Retry-After``), the
  ``attempts`` loop every retrying caller runs (webhooks, Slack, the Stripe meter, the SDK's
  collector sink) and ``deliver`` (POST a body with it).
"""
