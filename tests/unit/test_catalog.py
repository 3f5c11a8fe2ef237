"""The model catalog: its table files agree with themselves, and spellings resolve."""

from __future__ import annotations

import pytest

from cascadeflow_cloud.catalog import Catalog, CatalogError, Model, catalog, identify


def test_shipped_tables_load_and_every_model_names_itself() -> None:
    shipped = catalog()
    assert shipped.models
    for model in shipped.models.values():
        assert identify(model.id) == (model.id, model.id, True)
        for alias in model.aliases:
            assert identify(alias).model == model.id, alias  # type: ignore[union-attr]


def test_unknown_spelling_is_kept_verbatim_never_guessed() -> None:
    assert identify("  claude-sonnet-9-9 ") == ("claude-sonnet-9-9", "claude-sonnet-9-9", False)
    assert identify("") is None


def test_profile_prefixes_and_arns_are_one_model() -> None:
    want = identify("anthropic.claude-sonnet-4-6").model  # type: ignore[union-attr]
    for spelling in ("us.anthropic.claude-sonnet-4-6", "global.anthropic.claude-sonnet-4-6",
                     "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/"
                     "eu.anthropic.claude-sonnet-4-6",
                     "Claude Sonnet 4.6 (Amazon Bedrock Edition)"):
        assert identify(spelling).model == want, spelling  # type: ignore[union-attr]


def test_contradicting_tables_are_refused() -> None:
    a = Model("a-1", "v", "a", "A 1", ("same",))
    b = Model("b-1", "v", "b", "B 1", ("SAME",))
    with pytest.raises(CatalogError, match="names both"):
        Catalog([a, b], {})
    with pytest.raises(CatalogError, match="listed twice"):
        Catalog([a, a], {})
    with pytest.raises(CatalogError, match="no model"):
        Catalog([a], {"x": "missing"})
