from __future__ import annotations

import pytest

from cascadeflow_cloud.config import load_config, parse_config
from cascadeflow_cloud.errors import ConfigError, SecretError
from cascadeflow_cloud.secrets import resolve_secret


def test_defaults_without_a_file(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    config = load_config()
    assert config.store.startswith("file://")
    assert config.budgets == []


def test_three_mistakes_are_all_reported_with_paths(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "cascadeflow.yaml"
    path.write_text(
        "budgets:\n"
        "  - {name: a, amount: 10}\n"
        "  - {name: b, amount: 10, currency: usd}\n"
        "  - {name: c, amount: -3}\n"
        "channels:\n"
        "  - {name: s, type: slack, url: 'https://hooks.slack.com/services/T/B/X'}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    problems = info.value.problems
    assert len(problems) == 3, problems
    assert any(p.startswith("budgets[1].currency:") for p in problems)
    assert any(p.startswith("budgets[2].amount: must be > 0") for p in problems)
    assert any(p.startswith("channels[0]:") and "secret reference" in p for p in problems)
    # the Slack URL (a credential) is never echoed back
    assert not any("hooks.slack.com" in p for p in problems)


def test_unknown_setting_is_named() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"budgets": [{"name": "a", "amount": 1, "tresholds": [0.5]}]})
    assert info.value.problems == ["budgets[0].tresholds: is not a known setting"]


def test_store_override_wins(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "c.yaml"
    path.write_text("store: s3://bucket/x\n")
    assert load_config(path).store == "s3://bucket/x"
    monkeypatch.setenv("CASCADEFLOW_STORE", "file:///tmp/elsewhere")
    assert load_config(path).store == "file:///tmp/elsewhere"
    assert load_config(path, store="file:///tmp/cli").store == "file:///tmp/cli"


def test_custom_period_needs_dates() -> None:
    with pytest.raises(ConfigError, match=r"budgets\[0\]: a custom period needs"):
        parse_config({"budgets": [{"name": "q", "amount": 5, "period": "custom"}]})


def test_secret_resolution_never_echoes_values(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CF_TEST_SECRET", "hunter2")
    assert resolve_secret("env:CF_TEST_SECRET") == "hunter2"
    with pytest.raises(SecretError) as info:
        resolve_secret("env:CF_MISSING_SECRET")
    assert "CF_MISSING_SECRET" in str(info.value)
    with pytest.raises(SecretError) as info2:
        resolve_secret("hunter2")
    assert "hunter2" not in str(info2.value)


def test_secretsmanager_reference_uses_the_client() -> None:
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        client.create_secret(Name="cf/slack", SecretString="https://hooks.example/x")
        value = resolve_secret("aws-secretsmanager:cf/slack", client=client, cache=False)
        assert value == "https://hooks.example/x"
        with pytest.raises(SecretError, match="cf/missing"):
            resolve_secret("aws-secretsmanager:cf/missing", client=client, cache=False)
