"""The notify and metering configuration sections."""

from __future__ import annotations

import pytest

from cascadeflow_cloud.config import parse_config
from cascadeflow_cloud.errors import ConfigError


def test_defaults() -> None:
    cfg = parse_config({})
    assert cfg.notify.forecast_quantile == "p50"
    assert cfg.notify.anomaly.min_relative == 0.5 and cfg.metering.stripe is None


def test_every_problem_is_reported_with_its_path() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({
            "notify": {"forecast_quantile": "p99", "max_attempts": 0},
            "channels": [{"name": "h", "type": "webhook", "url": "https://x.example",
                          "rotation_secrets": ["whsec_plaintext"]}],
        })
    text = "\n".join(info.value.problems)
    assert "notify.forecast_quantile" in text and "notify.max_attempts" in text
    assert "channels[0].rotation_secrets[0]" in text and "secret reference" in text


def test_metering_must_name_a_stripe_channel() -> None:
    with pytest.raises(ConfigError, match="not a stripe channel"):
        parse_config({"channels": [{"name": "f", "type": "file", "path": "a.jsonl"}],
                      "metering": {"stripe": {"channel": "f", "event_name": "m"}}})
    ok = parse_config({"channels": [{"name": "s", "type": "stripe", "api_key": "env:K"}],
                       "metering": {"stripe": {"channel": "s", "event_name": "m",
                                               "value": "tokens"}}})
    assert ok.metering.stripe is not None and ok.metering.stripe.value == "tokens"
