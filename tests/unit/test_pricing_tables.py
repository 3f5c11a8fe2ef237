"""The layered price tables: config overrides > the deploy's snapshot file > our supplement >
genai-prices; rows narrowed by tier, geography and source region; factors; the ``pricing``
command that shows which one priced a model."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from cascadeflow_cloud.cli import main
from cascadeflow_cloud.config import parse_config, parse_price_table
from cascadeflow_cloud.errors import ConfigError
from cascadeflow_cloud.pricing import Pricer, TokenUsage, UnitPrices, genai_prices_version
from cascadeflow_cloud.pricing.tables import supplement_layer
from cascadeflow_cloud.sdk.record import CallRecord, to_event

D = Decimal
M = Decimal(1_000_000)
DAY = date(2026, 12, 1)
USAGE = TokenUsage(input_tokens=1000, output_tokens=100)


def _pricer(**pricing: object) -> Pricer:
    return Pricer(parse_config({"pricing": pricing}).pricing)


def test_every_supplement_row_cites_its_page_and_day():
    table = supplement_layer()
    rows = [row for rows in table.rates.values() for row in rows] + list(table.factors)
    assert rows
    assert all(row.source and row.source.startswith("https://") and row.read for row in rows)


def test_override_for_a_tier_and_a_source_region():
    pricer = _pricer(overrides=[
        {"provider": "aws_bedrock", "model": "openai.gpt-oss-120b-1:0", "service_tier": "flex",
         "input_mtok": "0.075", "output_mtok": "0.3"},
        {"provider": "aws_bedrock", "model": "amazon.nova-pro-v1:0", "region_prefix": "eu-",
         "input_mtok": "1.05", "output_mtok": "4.2"},
    ])
    flex = pricer.price("aws_bedrock", "openai.gpt-oss-120b-1:0", USAGE, DAY, tier="flex")
    assert flex is not None and flex.total == (1000 * D("0.075") + 100 * D("0.3")) / M
    standard = pricer.price("aws_bedrock", "openai.gpt-oss-120b-1:0", USAGE, DAY)
    assert standard is not None and standard.total == (1000 * D("0.15") + 100 * D("0.6")) / M
    eu = pricer.price("aws_bedrock", "eu.amazon.nova-pro-v1:0", USAGE, DAY,
                      region="eu-central-1")
    us = pricer.price("aws_bedrock", "us.amazon.nova-pro-v1:0", USAGE, DAY, region="us-east-1")
    assert eu is not None and eu.total == (1000 * D("1.05") + 100 * D("4.2")) / M
    assert us is not None and us.total == (1000 * D("0.8") + 100 * D("3.2")) / M


def test_config_factor_wins_over_the_supplement():
    pricer = _pricer(factors=[{"provider": "gcp_vertex", "service_tier": "flex",
                               "factor": "0.6"}])
    cost = pricer.price("gcp_vertex", "gemini-2.5-flash", USAGE, DAY, tier="flex")
    assert cost is not None and cost.total == (1000 * D("0.18") + 100 * D("1.5")) / M


def test_snapshot_file_sits_between_overrides_and_supplement(tmp_path):
    snapshot = tmp_path / "prices.toml"
    snapshot.write_text('[[rate]]\nprovider = "gcp_vertex"\nmodel = "gemini-2.0-flash"\n'
                        'input_mtok = "0.2"\noutput_mtok = "0.8"\n'
                        'source = "https://cloud.google.com/vertex-ai/generative-ai/pricing"\n'
                        'read = 2026-12-02\n')
    pricer = _pricer(snapshot=str(snapshot))
    cost = pricer.price("gcp_vertex", "gemini-2.0-flash", USAGE, DAY)
    assert cost is not None and cost.total == (1000 * D("0.2") + 100 * D("0.8")) / M
    assert cost.source.startswith(f"snapshot {snapshot}")
    over = _pricer(snapshot=str(snapshot), overrides=[
        {"provider": "gcp_vertex", "model": "gemini-2.0-flash", "input_mtok": "1",
         "output_mtok": "1"}])
    cost = over.price("gcp_vertex", "gemini-2.0-flash", USAGE, DAY)
    assert cost is not None and cost.total == D("0.0011")


def test_bad_snapshot_never_breaks_pricing_and_stops_the_command(tmp_path, capsys):
    missing = tmp_path / "nope.toml"
    pricer = _pricer(snapshot=str(missing))  # a wrapped client keeps pricing without it
    assert "pricing.snapshot" in pricer.problems[0]
    assert pricer.price("gcp_vertex", "gemini-2.0-flash", USAGE, DAY) is not None
    config = tmp_path / "cascadeflow.yaml"
    config.write_text(f"pricing:\n  snapshot: {missing}\n")
    assert main(["--config", str(config), "pricing", "gemini-2.0-flash"]) == 2
    assert "error: price snapshot unusable" in capsys.readouterr().err
    with pytest.raises(ConfigError) as info:
        parse_price_table('[[rate]]\nprovider = "aws_bedrock"\nmodel = "m"\n'
                          'input_mtok = "-1"\noutput_mtok = "1"\n')
    assert info.value.problems[0].startswith("rate[0].input_mtok")


def test_azure_per_deployment_override_is_keyed_by_the_callers_deployment_name():
    """Azure Data Zone / Regional deployments: the response names the model, the price
    follows the deployment the caller used."""
    pricer = _pricer(overrides=[{"provider": "azure_openai", "model": "contoso-chat",
                                 "currency": "EUR", "input_mtok": "2.3",
                                 "output_mtok": "9.2"}])
    record = CallRecord("azure_openai", "gpt-4o-2024-08-06", input_tokens=1000,
                        output_tokens=100, deployment="contoso-chat", timestamp=1.7e9)
    event = to_event(record, pricer)
    assert event.currency == "EUR"
    assert event.estimated_cost == (1000 * D("2.3") + 100 * D("9.2")) / M
    plain = to_event(CallRecord("azure_openai", "gpt-4o-2024-08-06", input_tokens=1000,
                                output_tokens=100, timestamp=1.7e9), pricer)
    assert plain.currency == "USD"


def test_audio_tokens_priced_the_same_by_the_running_totals():
    pricer = Pricer()
    record = CallRecord("gcp_vertex", "gemini-2.5-flash", input_tokens=10_000,
                        output_tokens=500, input_by_modality={"text": 2000, "audio": 8000},
                        timestamp=1.78e9)
    prices = pricer.unit_prices("gcp_vertex", "gemini-2.5-flash", record.timestamp)
    assert isinstance(prices, UnitPrices) and prices.exact
    cost = prices.sheet.cost(record.usage()).total
    assert cost == (2000 * D("0.3") + 8000 * D(1) + 500 * D("2.5")) / M
    assert prices.units(record) == int(cost * 10**18)
    broken = CallRecord("gcp_vertex", "gemini-2.5-flash", input_tokens=10,
                        input_by_modality=[("audio", 5)])  # type: ignore[arg-type]
    assert broken.usage().input_audio_tokens == 0  # an unreadable split is ignored


def test_pricing_command_names_the_source(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["pricing", "us.anthropic.claude-3-5-sonnet-20241022-v2:0",
                 "--provider", "aws_bedrock", "--day", "2026-12-01"]) == 0
    out = capsys.readouterr().out
    assert "input 6, output 30" in out
    assert "supplement: https://aws.amazon.com/bedrock/pricing/ (read 2026-12-02)" in out
    assert main(["pricing", "gpt-4o-mini", "--provider", "azure_openai"]) == 0
    assert f"genai-prices {genai_prices_version()}:azure/gpt-4o-mini" in capsys.readouterr().out
    assert main(["pricing", "amazon.nova-pro-v1:0", "--provider", "aws_bedrock",
                 "--tier", "priority"]) == 0
    assert "supplement: https://pypi.org/project/litellm/1.110.2/" in capsys.readouterr().out
    assert main(["pricing", "amazon.nova-lite-v1:0", "--provider", "aws_bedrock",
                 "--tier", "priority"]) == 1
    assert "no priority rate for amazon.nova-lite-v1:0" in capsys.readouterr().out


def test_a_tier_label_outside_the_schema_is_standard():
    pricer = Pricer()
    standard = pricer.price("aws_bedrock", "amazon.nova-pro-v1:0", USAGE, DAY)
    assert standard is not None
    assert pricer.price("aws_bedrock", "amazon.nova-pro-v1:0", USAGE, DAY,
                        tier="default") == standard
    assert pricer.price("aws_bedrock", "amazon.nova-lite-v1:0", USAGE, DAY,
                        tier="priority") is None


def test_a_config_tier_row_wins_and_the_supplement_row_beats_its_own_factor():
    config_row = _pricer(overrides=[{"provider": "gcp_vertex", "model": "gemini-2.5-flash",
                                     "service_tier": "flex", "input_mtok": "0.1",
                                     "output_mtok": "1"}])
    cost = config_row.price("gcp_vertex", "gemini-2.5-flash", USAGE, DAY, tier="flex")
    assert cost is not None and cost.total == (1000 * D("0.1") + 100 * D(1)) / M
    # no config: the supplement's own gemini-2.5-flash flex row, not its 0.5 factor
    plain = Pricer().price("gcp_vertex", "gemini-2.5-flash", USAGE, DAY, tier="flex")
    assert plain is not None and "litellm/1.110.2" in plain.source and "×" not in plain.source
    factor_only = Pricer().price("gcp_vertex", "gemini-2.0-flash", USAGE, DAY, tier="flex")
    assert factor_only is not None and "× 0.5 flex" in factor_only.source
