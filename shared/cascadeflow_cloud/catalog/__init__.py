"""The model catalog: one canonical id for every model the three clouds bill (pure).

A model has many spellings: Bedrock ids (``anthropic.claude-sonnet-4-6``), inference-profile
ids and ARNs (``us.…``, ``arn:aws:bedrock:…:inference-profile/…``), Cost Explorer usage-type
fragments (``Claude4.6Sonnet``), Marketplace service names (``Claude Sonnet 4.6 (Amazon
Bedrock Edition)``), Azure meter fragments (``gpt-4o-rt-aud-1217``), response model names
(``o3-2025-04-16``) and GCP SKU descriptions (``Gemini 2.5 Flash``). ``identify`` turns any of
them into the canonical id; the spelling is kept beside it. A spelling the catalog does not
know is returned verbatim with ``known=False`` — never guessed into another model.

The data lives in table files, one entry per model (``models/<vendor>.toml``) and the
spellings each cloud uses that are not mechanical variants of a listed one
(``aliases/<cloud>.toml``). Adding a model is one entry there, no code.

>>> identify("us.anthropic.claude-sonnet-4-6").model
'claude-sonnet-4-6'
>>> identify("Claude Sonnet 4.6").model == identify("Claude4.6Sonnet").model
True
>>> identify("some-new-model-9")
Identity(model='some-new-model-9', spelling='some-new-model-9', known=False)
>>> model_info("claude-sonnet-4-6").vendor
'anthropic'
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import NamedTuple

__all__ = ["CatalogError", "Identity", "Model", "canonical_model", "catalog", "identify",
           "model_info", "spelling_key"]


class CatalogError(ValueError):
    """The catalog's table files contradict themselves (a test keeps this from shipping)."""


@dataclass(frozen=True)
class Model:
    """One model: canonical ``id``, ``vendor``, ``family`` and display ``name``."""

    id: str
    vendor: str
    family: str
    name: str
    aliases: tuple[str, ...] = ()


class Identity(NamedTuple):
    """What a spelling names: the canonical ``model`` (the spelling itself when unknown)."""

    model: str
    spelling: str
    known: bool


#: ARN forms: ``arn:aws:bedrock:<region>:<account>:<kind>/<id>``.
_ARN = re.compile(r"^arn:aws[a-z-]*:bedrock:[^:]*:[^:]*:[a-z-]+/(?P<id>.+)$")
#: Cross-region inference-profile prefixes (``us.``, ``eu.``, ``apac.``, ``global.`` …).
_PROFILE = re.compile(r"^(?:us|eu|apac|ca|global|us-gov|jp|au|ap|sa|me|af)\.(?=[a-z0-9]+\.)")
#: Vertex resource paths: ``publishers/google/models/gemini-2.5-flash``, ``…@20240620``.
_VERTEX = re.compile(r"^(?:projects/[^/]+/locations/[^/]+/)?publishers/[^/]+/models/")
_MARKETPLACE = " (amazon bedrock edition)"
_SQUASH = re.compile(r"[^a-z0-9]+")


def spelling_key(spelling: str) -> str:
    """The form two spellings of one model share: lower case, no ARN / profile / Vertex path,
    no Marketplace suffix, only letters and digits.

    >>> spelling_key("arn:aws:bedrock:us-east-1:1:inference-profile/eu.amazon.nova-pro-v1:0")
    'amazonnovaprov10'
    >>> spelling_key("Claude 3.5 Sonnet (Amazon Bedrock Edition)")
    'claude35sonnet'
    >>> spelling_key("publishers/anthropic/models/claude-sonnet-4-6@20260101")
    'claudesonnet46'
    """
    text = spelling.strip().lower()
    if m := _ARN.match(text):
        text = m.group("id")
    text = _VERTEX.sub("", text)
    if "@" in text:  # a Vertex version pin (``claude-3-5-sonnet-v2@20241022``)
        text = text.split("@", 1)[0]
    text = _PROFILE.sub("", text)
    text = text.removesuffix(_MARKETPLACE)
    return _SQUASH.sub("", text)


class Catalog:
    """Models by id and the spelling index (built once from the table files)."""

    def __init__(self, models: list[Model], aliases: dict[str, str]) -> None:
        self.models: dict[str, Model] = {}
        self.index: dict[str, str] = {}
        for model in models:
            if model.id in self.models:
                raise CatalogError(f"model {model.id!r} is listed twice")
            self.models[model.id] = model
        for model in models:
            for spelling in (model.id, model.name, *model.aliases):
                self._add(spelling, model.id)
        for spelling, model_id in aliases.items():
            if model_id not in self.models:
                raise CatalogError(f"alias {spelling!r} names {model_id!r}, which is no model")
            self._add(spelling, model_id)

    def _add(self, spelling: str, model_id: str) -> None:
        key = spelling_key(spelling)
        if not key:
            raise CatalogError(f"alias {spelling!r} has no letters or digits")
        held = self.index.setdefault(key, model_id)
        if held != model_id:
            raise CatalogError(f"spelling {spelling!r} names both {held!r} and {model_id!r}")


def _load() -> Catalog:
    root = resources.files(__name__)
    models: list[Model] = []
    aliases: dict[str, str] = {}
    for entry in sorted(root.joinpath("models").iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".toml"):
            continue
        data = tomllib.loads(entry.read_text(encoding="utf-8"))
        vendor = data.get("vendor", entry.name.removesuffix(".toml"))
        for item in data.get("model", []):
            try:
                models.append(Model(item["id"], item.get("vendor", vendor), item["family"],
                                    item.get("name", item["id"]),
                                    tuple(item.get("aliases", ()))))
            except KeyError as exc:
                raise CatalogError(f"{entry.name}: a model lacks {exc}") from exc
    for entry in sorted(root.joinpath("aliases").iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".toml"):
            for spelling, model_id in tomllib.loads(
                    entry.read_text(encoding="utf-8")).get("aliases", {}).items():
                if aliases.setdefault(spelling, model_id) != model_id:
                    raise CatalogError(f"{entry.name}: alias {spelling!r} names two models")
    return Catalog(models, aliases)


@functools.cache
def catalog() -> Catalog:
    """The catalog shipped with the package (loaded on first use)."""
    return _load()


@functools.lru_cache(maxsize=1 << 14)
def identify(spelling: str | None) -> Identity | None:
    """The canonical model a spelling names; unknown spellings come back verbatim.

    >>> identify("anthropic.claude-3-5-sonnet-20240620-v1:0").model
    'claude-3-5-sonnet-20240620'
    >>> identify(None) is None
    True
    """
    if spelling is None:
        return None
    text = spelling.strip()
    if not text:
        return None
    model_id = catalog().index.get(spelling_key(text))
    if model_id is None:
        return Identity(text, text, False)
    return Identity(model_id, text, True)


def canonical_model(spelling: str | None) -> str | None:
    """``identify(spelling).model``: the canonical id, the spelling itself when unknown, None
    for none. Readers apply it to old lakes, whose rows carry the bill's or SDK's spelling.

    >>> canonical_model("o3-0416"), canonical_model("o3-2025-04-16"), canonical_model("")
    ('o3-2025-04-16', 'o3-2025-04-16', None)
    """
    who = identify(spelling)
    return who.model if who else None


def model_info(model_id: str) -> Model | None:
    """The catalog entry of a canonical id (None for an unknown one)."""
    return catalog().models.get(model_id)
