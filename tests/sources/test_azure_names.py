"""Azure meter names → model, token type, charge kind and tier (sources.azure_openai.names).

The real-name fixture (tests/sources/real_names/azure_openai.csv, run by test_real_names.py)
covers the meters one by one; these tests pin the classes of names behind them.
"""

from __future__ import annotations

import pytest

from cascadeflow_cloud.catalog import identify
from cascadeflow_cloud.sources.azure_openai import classify


@pytest.mark.parametrize(("meter", "model", "token"), [
    # moved from test_mapping.py (the old map_azure), now with canonical ids
    ("gpt 4o 0513 Output global Tokens", "gpt-4o-2024-05-13", "output"),
    ("gpt-4o-mini-0718-Inp-glbl Tokens", "gpt-4o-mini-2024-07-18", "input"),
    ("gpt 4o 1120 cached Inp glbl", "gpt-4o-2024-11-20", "cache_read"),
    ("o3 mini 0131 Batch Outp Data Zone Tokens", "o3-mini-2025-01-31", "output"),
    ("gpt 4.1 Inp glbl Tokens", "gpt-4.1-2025-04-14", "input"),
    ("GPT 5 Inpt Glbl", "gpt-5-2025-08-07", "input"),
])
def test_meter_generations_name_one_model(meter: str, model: str, token: str) -> None:
    line = classify("Cognitive Services", meter)
    assert (line.model, line.token_type, line.kind, line.mapped) == (model, token, "tokens", True)
    assert line.model_spelling and line.model_spelling in meter  # the bill's spelling beside it


def test_glued_words_split() -> None:
    assert classify(None, "gpt 4o mini0718 BatchOutp DataZone Tokens")[:7] == (
        "gpt-4o-mini-2024-07-18", "gpt 4o mini0718", True, None, "output", "tokens", "batch")
    line = classify(None, "gpt4o realtimePrvwTxtOutp DataZone Tokens")
    assert (line.model, line.token_type, line.modality) == (
        "gpt-4o-realtime-preview", "output", "text")
    line = classify(None, "gpt4omini-rt-aud1217 cchd Inp glbl Tokens")
    assert (line.model, line.token_type, line.modality) == (
        "gpt-4o-mini-realtime-preview-2024-12-17", "cache_read", "audio")


@pytest.mark.parametrize("where", ["glbl", "Data Zone", "DZone", "dzone", "regnl", "rgnl"])
def test_deployment_type_is_neither_model_nor_tier(where: str) -> None:
    line = classify(None, f"o3 0416 Inp {where} Tokens")
    assert (line.model, line.tier, line.pricing_category) == ("o3-2025-04-16", "standard",
                                                              "Standard")


def test_bill_and_sdk_spellings_meet_in_the_catalog() -> None:
    for meter, sdk in (("gpt-4o-rt-aud-1217 Inp glbl Tokens", "gpt-4o-realtime-preview-2024-12-17"),
                       ("o3 0416 Outp glbl Tokens", "o3-2025-04-16"),
                       ("gpt-4o-0806-Inp-glbl Tokens", "gpt-4o-2024-08-06"),
                       ("GPT 5 Mini outpt DZone 1M Tokens", "gpt-5-mini-2025-08-07")):
        assert classify(None, meter).model == identify(sdk).model == sdk  # type: ignore[union-attr]


def test_an_unknown_snapshot_is_kept_verbatim_never_another_snapshot() -> None:
    line = classify(None, "gpt 4o 0999 Opt glbl")
    assert (line.model, line.model_known, line.token_type) == ("gpt 4o 0999", False, "output")
    # a meter covering several versions is not pinned to one of them
    line = classify(None, "gpt-35-turbo-16k-Output-regional Tokens")
    assert (line.model, line.model_known) == ("gpt-35-turbo-16k", False)


def test_modality_follows_the_last_modality_word() -> None:
    assert classify(None, "gpt-4o-aud-1217 Inp DZone Tokens").modality == "audio"
    assert classify(None, "gpt-4o-aud-1217-txt Inp DZone Tokens").modality == "text"
    assert classify(None, "gpt-image-1-inp-cached-img-glbl Tokens")[4:9] == (
        "cache_read", "tokens", "standard", "Standard", "image")


def test_embeddings_are_input_tokens() -> None:
    for meter in ("text-embedding-3-large-glbl Tokens", "embedding-ada-regional Tokens"):
        line = classify(None, meter)
        assert (line.kind, line.token_type, line.model_known) == ("tokens", "input", True)


def test_ptu_use_and_ptu_reservation_purchase() -> None:
    use = classify("Cognitive Services", "Provisioned Managed Global Unit", "Azure OpenAI")
    assert (use.kind, use.tier, use.pricing_category, use.charge_category) == (
        "provisioned_capacity", "provisioned", "Committed", "Usage")
    bought = classify("Cognitive Services", "Provisioned Managed Global Unit",
                      "Azure AI Foundry Provisioned Throughput Reservation")
    assert (bought.kind, bought.pricing_category, bought.charge_category, bought.model) == (
        "reservation", "Committed", "Purchase", None)


@pytest.mark.parametrize(("meter", "kind", "model"), [
    ("gpt-4o-0806-FT-Trng-glbl tkn Tokens", "fine_tuning_training", "gpt-4o-2024-08-06"),
    ("o4-mini RFT Training global Unit", "fine_tuning_training", "o4-mini-2025-04-16"),
    ("gpt-4.1-mini-ft hosting global Unit", "fine_tuning_hosting", "gpt-4.1-mini-2025-04-14"),
    ("Image-Dall-E-3 HD HighRes-glbl Images", "image", "dall-e-3"),
    ("Sora 720p Sq 1-20s regnl Video", "video", "sora"),
    ("Speech-to-Text-Batch-Whisper-regnl Unit", "audio", "whisper-1"),
    ("Speech-Text to Speech HD-Regional Characters", "audio", "tts-1-hd"),
    ("file-search-tool-calls-rgnl Calls", "search_grounding", None),
    ("Code-Interpreter-regnl EP Session", "other", None),
])
def test_non_token_charges(meter: str, kind: str, model: str | None) -> None:
    line = classify(None, meter)
    assert (line.kind, line.model, line.token_type, line.mapped) == (kind, model, "other", True)


def test_fine_tuned_inference_and_graders_are_tokens_of_the_base_model() -> None:
    assert classify(None, "gpt-4o-0806-cached-FT-inp-datazone Tokens")[:5:4] == (
        "gpt-4o-2024-08-06", "cache_read")
    assert classify(None, "o3-ft mdl grdr cchd inpt Tokens")[:5:4] == (
        "o3-2025-04-16", "cache_read")


def test_batch_and_priority_tiers() -> None:
    assert classify(None, "GPT 5 Nano Batch outpt Glbl 1M Tokens").tier == "batch"
    assert classify(None, "gpt 4.1 pp Inp glbl Tokens").tier == "priority"


@pytest.mark.parametrize("meter", ["Commitment Tier CLU Azure 1M CT Overage Transactions",
                                   "Standard Text Records", "Standard Unit", "", None])
def test_lines_it_cannot_read_are_kept_unmapped_without_a_guessed_model(
        meter: str | None) -> None:
    line = classify("Cognitive Services", meter)
    assert (line.kind, line.token_type, line.mapped, line.model) == (
        "other", "other", False, None)


def test_the_sub_category_stands_in_for_a_missing_meter() -> None:
    line = classify("Azure OpenAI", None, "gpt 4o 0513 Input global Tokens")
    assert (line.model, line.token_type) == ("gpt-4o-2024-05-13", "input")


@pytest.mark.parametrize(("meter", "kind", "token"), [
    ("Phi-4-FT Tokens", "fine_tuning_training", "other"),
    ("Phi-3-Mini-4K-Instruct-Finetuned Tokens", "fine_tuning_training", "other"),
    ("Phi-4-Input-FT Tokens", "tokens", "input"),
    ("Phi-3.5-MoE-Instruct-FT Deployment Hosting Unit", "fine_tuning_hosting", "other"),
])
def test_phi_generation_fine_tuning_words(meter: str, kind: str, token: str) -> None:
    line = classify("Cognitive Services", meter, "Phi")
    assert (line.kind, line.token_type, line.model_known) == (kind, token, True)
