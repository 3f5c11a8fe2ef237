"""GCP SKU descriptions → model, token type and charge dimensions (``gcp_vertex.names``).

The real-name fixture (tests/sources/real_names/gcp_vertex.csv, run by test_real_names.py)
holds SKUs seen in public sources. These tests pin the classes of names behind them: the SKU
forms grafana/cloudcost-exporter's matcher lists (pkg/google/vertex/pricing_map.go,
Apache-2.0: Priority / Flex / Batch tiers, ``(Long)`` and ``(Thinking On and Long)``, caching
and cache storage, Model as a Service tokens, Claude's em-dash fields), the cases the old
mapper got wrong, and lines that are no model charge at all.
"""

from __future__ import annotations

import pytest

from cascadeflow_cloud.sources.gcp_vertex.names import classify
from cascadeflow_cloud.sources.gcp_vertex.services import ServiceSelection


@pytest.mark.parametrize(("sku", "model", "token"), [  # moved from test_mapping.py
    ("Gemini 2.5 Flash GA Text Input - Predictions", "gemini-2.5-flash", "input"),
    ("Gemini 2.5 Flash GA Thinking Text Output - Predictions", "gemini-2.5-flash", "output"),
    ("Gemini 2.5 Pro Text Input (≤200k)", "gemini-2.5-pro", "input"),
    ("Gemini 2.0 Flash Lite Global Text Input - Predictions", "gemini-2.0-flash-lite", "input"),
    ("Gemini 2.5 Flash Text Input Caching", "gemini-2.5-flash", "cache_read"),
    ("Gemini 2.5 Flash Text Input Caching Storage", "gemini-2.5-flash", "other"),
])
def test_gemini_skus(sku: str, model: str, token: str) -> None:
    line = classify("Vertex AI", sku)
    assert (line.model, line.token_type, line.mapped, line.model_known) == (
        model, token, True, True)


@pytest.mark.parametrize(("sku", "tier", "context", "token"), [
    ("Gemini 2.5 Pro Thinking Text Output Priority (Long) - Predictions", "priority", "long",
     "output"),
    ("Gemini 2.5 Pro Text Output (Thinking On and Long) - Batch Predictions", "batch", "long",
     "output"),
    ("Gemini 2.5 Flash Text Output Flex - Predictions", "flex", None, "output"),
    ("Gemini 2.5 Pro Text Input Long Context - Batch Predictions", "batch", "long", "input"),
    ("Gemini 2.5 Flash Input Text Caching Flex (Long)", "flex", "long", "cache_read"),
    ("Gemini 2.5 Pro Text and Thinking Output (≤200k)", "standard", "standard", "output"),
    ("Gemini 2.5 Pro Text Input (>200k)", "standard", "long", "input"),
])
def test_tiers_and_context_bands(sku: str, tier: str, context: str | None, token: str) -> None:
    line = classify("Vertex AI", sku)
    assert (line.tier, line.context, line.token_type, line.kind) == (tier, context, token,
                                                                     "tokens")
    assert line.pricing_category == ("Dynamic" if tier == "flex" else "Standard")


@pytest.mark.parametrize(("sku", "modality"), [
    ("Gemini 2.5 Flash Audio Input - Predictions", "audio"),
    ("Gemini 2.5 Flash Image Input - Predictions", "image"),
    ("Gemini 2.5 Flash Video Input - Predictions", "video"),
    ("Gemini 3 Flash Text Input - Predictions", "text"),
])
def test_input_modality(sku: str, modality: str) -> None:
    line = classify("Vertex AI", sku)
    assert (line.modality, line.token_type) == (modality, "input")


def test_image_models_are_not_their_text_siblings() -> None:
    # "Image" before "Output" or before another modality names the image model
    out = classify("Vertex AI", "Gemini 2.5 Flash Image Output - Predictions")
    assert (out.model, out.token_type) == ("gemini-2.5-flash-image", "output")
    text_in = classify("Vertex AI", "Gemini 2.5 Flash Image Text Input - Predictions")
    assert (text_in.model, text_in.modality) == ("gemini-2.5-flash-image", "text")
    image_in = classify("Vertex AI", "Gemini 2.5 Flash Image Input - Predictions")
    assert (image_in.model, image_in.modality) == ("gemini-2.5-flash", "image")


def test_claude_cache_write_lifetime_and_partner_service() -> None:
    one_hour = classify("Claude Opus 4.8", "Claude Opus 4 8 — Input Cache Write Tokens (TTL "
                        "3600 seconds) — us-east5 — Context Window Size from 200001 to 1000000 "
                        "Tokens")
    assert (one_hour.model, one_hour.token_type, one_hour.cache_ttl, one_hour.region,
            one_hour.context) == ("claude-opus-4-8", "cache_write", "1h", "us-east5", "long")
    five_min = classify("Claude Sonnet 4.6", "Claude Sonnet 4.6 — Input Cache Write Tokens — "
                        "global — Context Window Size from 0 to 200000 Tokens")
    assert (five_min.cache_ttl, five_min.context) == ("5m", "standard")
    output = classify("Claude Sonnet 4.6", "Claude Sonnet 4.6 — Output Tokens — global")
    assert (output.model, output.token_type, output.context) == ("claude-sonnet-4-6", "output",
                                                                 None)
    # the old mapper read the em dash into the model and the cache read as input
    read = classify("Claude Sonnet 4.6", "Claude Sonnet 4.6 — Input Cache Read Tokens — global "
                    "— …")
    assert (read.model, read.token_type) == ("claude-sonnet-4-6", "cache_read")


def test_a_partner_service_names_the_model_of_an_unreadable_line() -> None:
    line = classify("Claude Sonnet 4.6", "Some charge nobody has seen")
    assert (line.model, line.kind, line.mapped) == ("claude-sonnet-4-6", "other", False)


def test_unknown_models_stay_verbatim_never_another_model() -> None:
    line = classify("Vertex AI", "Gemini 9 Ultra Text Input - Predictions")
    assert (line.model, line.model_known, line.token_type) == ("Gemini 9 Ultra", False, "input")
    preview = classify("Vertex AI", "Gemini 2.5 Flash Preview Text Input - Predictions")
    assert preview.model == "Gemini 2.5 Flash Preview" and not preview.model_known


@pytest.mark.parametrize("sku", [
    "Vertex AI Online Prediction: N1 Predefined Instance Core", "Standard Storage US Multi-region",
    "", None,
])
def test_lines_that_are_no_model_charge_are_kept_as_other(sku: str | None) -> None:
    line = classify("Vertex AI", sku)
    assert (line.model, line.kind, line.token_type, line.mapped) == (None, "other", "other",
                                                                     False)


@pytest.mark.parametrize(("sku", "kind", "tier"), [
    ("Vertex AI: Provisioned Throughput 1 month", "provisioned_capacity", "provisioned"),
    ("Gemini 2.5 Flash Tuning Text Input", "fine_tuning_training", "standard"),
    ("Imagen 4 Image Generation", "image", "standard"),
    ("Veo 3 Video Generation", "video", "standard"),
])
def test_non_token_kinds(sku: str, kind: str, tier: str) -> None:
    line = classify("Vertex AI", sku)
    assert (line.kind, line.tier, line.token_type) == (kind, tier, "other")
    if kind == "provisioned_capacity":
        assert line.pricing_category == "Committed"


def test_service_selection_names_and_prefixes() -> None:
    selection = ServiceSelection(("Vertex AI",), ("Claude ",))
    import pyarrow as pa

    mask = selection.mask(pa.array(["Vertex AI", "Claude Haiku 4.5", None, "Cloud Storage",
                                    "Claudette"]))
    assert mask.to_pylist() == [True, True, False, False, False]
    assert selection.matches("Claude Haiku 4.5") and not selection.expected("Claude Haiku 4.5")


def test_offline_export_cache_storage_is_classified_and_unknown_skus_counted(
        local_store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    import pyarrow.compute as pc

    from cascadeflow_cloud.jobs.ingest_costs import ingest_files
    from cascadeflow_cloud.lake.tables import Lake
    from tests.sources.conftest import GCP_EXPORT

    rows = [json.loads(line) for line in GCP_EXPORT.read_text().splitlines()]
    unknown = dict(rows[0], sku={"id": "ZZZZ-0000-0001",
                                 "description": "Vertex AI Online Prediction: N1 Predefined "
                                                "Instance Core"})
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [*rows, unknown]) + "\n")
    summary = ingest_files(local_store, "gcp_vertex", [path])
    assert summary.unmapped == 1 and summary.ignored == 1  # Cloud Storage is not read
    table = Lake(local_store).read_costs(sources=["gcp_vertex"])
    kinds = {r["ChargeDescription"]: r["x_ChargeKind"] for r in table.to_pylist()}
    assert kinds["Gemini 2.5 Flash Text Input Caching Storage"] == "cache_storage"
    assert kinds["Vertex AI Online Prediction: N1 Predefined Instance Core"] == "other"
    other = table.filter(pc.equal(table.column("x_ChargeKind"), "other")).to_pylist()
    assert [r["BilledCost"] > 0 for r in other] == [True]  # kept, not dropped
