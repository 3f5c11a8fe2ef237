"""Azure OpenAI / Foundry meter names → what was bought (pure, lenient, never guessing).

Meter names differ from one model generation to the next: ``gpt-4o-0806-Inp-glbl Tokens``,
``gpt 4o mini0718 BatchOutp DataZone Tokens``, ``gpt4o realtimePrvwAudInp DataZone Tokens``,
``GPT 5 Mini Batch Inpt cchd Dzone 1M Tokens``, ``o3 0416 cached Inp glbl Tokens``. A meter
is cut into words (glued words such as ``BatchOutp`` or ``mini0718`` are split first); the
words before the first word that says what was bought (``Inp``, ``Outp``, ``cached``,
``Batch``, ``FT``, a deployment type such as ``glbl`` / ``DZone`` / ``regnl`` …) name the model,
which the catalog resolves (``gpt 4o 0806`` → ``gpt-4o-2024-08-06``). The deployment type is
not a tier and never part of the model. The meter sub-category (the product, e.g. ``Azure AI
Foundry Provisioned Throughput Reservation``) tells a PTU reservation purchase from hourly PTU
use. A meter that says nothing this module can read is kept as kind ``other`` (unmapped),
with its model only when the catalog knows it.

>>> line = classify("Cognitive Services", "gpt 4o mini0718 BatchOutp DataZone Tokens")
>>> line.model, line.token_type, line.tier
('gpt-4o-mini-2024-07-18', 'output', 'batch')
>>> line = classify(None, "gpt4o realtimePrvwAudInp DataZone Tokens")
>>> line.model, line.token_type, line.modality
('gpt-4o-realtime-preview', 'input', 'audio')
>>> classify(None, "Provisioned Managed Global Unit",
...          "Azure AI Foundry Provisioned Throughput Reservation").charge_category
'Purchase'
"""

from __future__ import annotations

import re
from typing import NamedTuple

from cascadeflow_cloud.catalog import identify
from cascadeflow_cloud.schema import ChargeKind, Modality, ServiceTier, TokenType
from cascadeflow_cloud.sources.billing_line import BillingLine, line, tokens, unread

__all__ = ["classify", "classify_charge", "classify_marketplace"]

#: Where a meter name splits into words: separators, camel case (``BatchOutp``), a four-digit
#: version glued to a word (``mini0718``), ``gpt4o`` and ``4omini``.
_SPLIT = re.compile(
    r"[\s\-_/,()]+|(?<=[a-z])(?=[A-Z])|(?<=[a-zA-Z])(?=\d{4}(?!\d))"
    r"|(?<=[gG][pP][tT])(?=\d)|(?<=4o)(?=mini)"
)
_INPUT = frozenset({"inp", "input", "inpt", "in"})
_OUTPUT = frozenset({"outp", "output", "outpt", "out", "opt"})
_CACHED = frozenset({"cached", "cchd", "cched", "cd", "cache"})
#: Deployment types (Global, Data Zone, Regional): where the model runs, not a tier.
_DEPLOYMENT = frozenset({"glbl", "global", "gl", "regnl", "regional", "regn", "rgnl", "reg",
                         "dzone", "dz", "dzn", "datazone", "data", "zone", "ep"})
_TRAINING = frozenset({"trng", "training"})
_HOSTING = frozenset({"hstng", "hosting"})
_FINE_TUNING = frozenset({"ft", "rft", "finetuned"})
#: Priority processing (pay-as-you-go at a higher rate for lower latency).
_PRIORITY = frozenset({"pp", "priority"})
_GRADER = frozenset({"grader", "grdr", "model", "mdl", "mdel"})
#: Units and qualities that end a model's name (``Tokens``, ``1M``, ``HD``, ``1080p`` …).
_UNITS = frozenset({"tokens", "token", "tkn", "unit", "units", "1m", "1k", "video", "images",
                    "pages", "session", "calls", "gb", "characters", "hd", "std", "sq", "dev",
                    "base", "batch"})
_MODALITY: dict[str, Modality] = {"aud": "audio", "audio": "audio", "txt": "text",
                                  "text": "text", "img": "image", "image": "image"}
_ENDS_MODEL = (_INPUT | _OUTPUT | _CACHED | _DEPLOYMENT | _TRAINING | _HOSTING | _FINE_TUNING
               | _GRADER | _PRIORITY | _UNITS)
_RESOLUTION = re.compile(r"^\d+p$")


class _Word(NamedTuple):
    text: str  # lower case
    start: int
    end: int


def _words(meter: str) -> list[_Word]:
    """The meter's words (lower case) with where each stands in the meter."""
    out: list[_Word] = []
    pos = 0
    for piece in _SPLIT.split(meter):
        if not piece:
            continue
        start = meter.index(piece, pos)
        pos = start + len(piece)
        out.append(_Word(piece.lower(), start, pos))
    return out


def _model_words(words: list[_Word]) -> list[_Word]:
    """The words before the first one that says what was bought."""
    head: list[_Word] = []
    for word in words:
        if word.text in _ENDS_MODEL or _RESOLUTION.match(word.text):
            break
        head.append(word)
    return head


def _model(meter: str, head: list[_Word]) -> tuple[str | None, bool]:
    """The model the head words name, as the meter spells it: the whole head when the
    catalog knows it, else the head without trailing modality words (``…-aud-1217-txt``);
    ``(spelling, known)``, the spelling None for no head at all."""
    candidates = [head] if head else []
    trimmed = list(head)
    while trimmed and trimmed[-1].text in _MODALITY:
        trimmed.pop()
    if trimmed and trimmed != head:
        candidates.append(trimmed)
    for words in candidates:
        spelling = meter[words[0].start:words[-1].end]
        who = identify(spelling)
        if who is not None and who.known:
            return spelling, True
    if not trimmed:
        return None, False
    return meter[trimmed[0].start:trimmed[-1].end], False


def _modality(words: list[_Word]) -> Modality:
    """The last modality word of the meter (``gpt-4o-aud-1217-txt`` bills text); text when
    none."""
    found: Modality = "text"
    for word in words:
        found = _MODALITY.get(word.text, found)
    return found


#: Meters that name their model in prose rather than first: (pattern, kind, model).
_NAMED_METERS: tuple[tuple[re.Pattern[str], ChargeKind, str | None], ...] = (
    (re.compile(r"^speech.*text to speech hd\b", re.I), "audio", "tts-1-hd"),
    (re.compile(r"^speech.*text to speech\b", re.I), "audio", "tts-1"),
    (re.compile(r"^speech.to.text.*whisper", re.I), "audio", "whisper-1"),
    (re.compile(r"file.search.tool.calls", re.I), "search_grounding", None),
    (re.compile(r"web.search|grounding|bing.search", re.I), "search_grounding", None),
    (re.compile(r"file.search", re.I), "other", None),  # vector storage per GB-day
    (re.compile(r"code.interpreter", re.I), "other", None),
)


def classify(service: str | None, meter: str | None,
             sub_category: str | None = None) -> BillingLine:
    """What one Cost Management line bought, from its meter name and meter sub-category
    (see the module docstring). ``service`` (the meter category) is part of the common
    signature; Azure meters name what they bill themselves, so it is not needed. With no
    meter, the sub-category is read as the meter (some exports carry it there).

    >>> classify("Cognitive Services", "gpt-4o-0806-Inp-glbl Tokens").model
    'gpt-4o-2024-08-06'
    >>> line = classify(None, "gpt-4.1-ft hosting global Unit")
    >>> line.model, line.kind
    ('gpt-4.1-2025-04-14', 'fine_tuning_hosting')
    >>> classify(None, "Commitment Tier CLU Azure 1M CT Overage Transactions").mapped
    False
    """
    text = (meter or sub_category or "").strip()
    product = (sub_category or "").lower()
    words = _words(text)
    said = {w.text for w in words}
    tier: ServiceTier = "batch" if "batch" in said else \
        "priority" if said & _PRIORITY else "standard"
    for pattern, kind, model in _NAMED_METERS:
        if pattern.search(text):
            return line(model, kind, tier=tier)
    if said & {"provisioned"}:
        if "reservation" in product:
            return line(None, "reservation", tier="provisioned", charge_category="Purchase")
        return line(None, "provisioned_capacity", tier="provisioned")
    image_meter = bool(words) and words[0].text == "image"
    head = _model_words(words[1:] if image_meter else words)
    spelling, known = _model(text, head)
    if image_meter or "images" in said:
        return line(spelling, "image", tier=tier)
    if "video" in said:
        return line(spelling, "video", tier=tier)
    if said & _TRAINING:
        return line(spelling, "fine_tuning_training", tier=tier)
    if said & _HOSTING:
        return line(spelling, "fine_tuning_hosting", tier=tier)
    found: TokenType | None = None
    if said & _INPUT:
        found = "cache_read" if said & _CACHED else "input"
    elif said & _OUTPUT:
        found = "output"
    elif known and "embedding" in (spelling or "").lower():
        found = "input"  # embeddings bill only the tokens sent
    if found is None and said & _FINE_TUNING:
        # "Phi-4-FT Tokens", "…-Instruct-Finetuned Tokens": the training tokens (the
        # fine-tuned model's own use names a direction: "Phi-4-Input-FT Tokens")
        return line(spelling, "fine_tuning_training", tier=tier)
    if found is None:
        return unread(spelling if known else None)
    return tokens(spelling, found, tier=tier, modality=_modality(words))


def classify_charge(service: str | None, meter: str | None, sub_category: str | None = None,
                    charge_type: str | None = None) -> BillingLine:
    """``classify``, plus what the line's Cost Management ``ChargeType`` says when the query
    or export carries it: a ``Purchase`` is ``ChargeCategory = Purchase``, and a purchase of
    provisioned throughput is a reservation (Committed).

    >>> classify_charge(None, "Provisioned Managed Global Unit", None, "Purchase")[5:8]
    ('reservation', 'provisioned', 'Committed')
    >>> classify_charge(None, "Provisioned Managed Global Unit", None, "Usage").kind
    'provisioned_capacity'
    """
    found = classify(service, meter, sub_category)
    if (charge_type or "").strip().lower() != "purchase" or found.charge_category == "Purchase":
        return found
    if found.kind == "provisioned_capacity":
        return found._replace(kind="reservation", charge_category="Purchase")
    return found._replace(charge_category="Purchase")


#: A Foundry Marketplace (MaaS) resource is named ``<model offer>-<GUID>`` (AZAI).
_OFFER_GUID = re.compile(r"[-_ ]?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
                         re.I)


def classify_marketplace(service: str | None, meter: str | None,
                         sub_category: str | None = None, charge_type: str | None = None,
                         resource_name: str | None = None) -> BillingLine:
    """``classify_charge``, and the Foundry Marketplace ("Models as a Service") meters
    ``paygo-inference-input-tokens``, ``paygo-finetuned-model-inference-hosting`` …, which name
    no model: the model is the offer in the resource's name ``<offer>-<GUID>``
    (learn.microsoft.com, AI Foundry "costs-plan-manage").

    >>> offer = "Meta-Llama-3.1-405B-Instruct-0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
    >>> line = classify_marketplace(None, "paygo-inference-output-tokens", None, "Usage", offer)
    >>> line.model_spelling, line.token_type, line.kind
    ('Meta-Llama-3.1-405B-Instruct', 'output', 'tokens')
    >>> classify_marketplace(None, "paygo-finetuned-model-inference-hosting").kind
    'fine_tuning_hosting'
    """
    text = (meter or "").strip().lower()
    if not text.startswith("paygo-"):
        return classify_charge(service, meter, sub_category, charge_type)
    spelling = _OFFER_GUID.sub("", (resource_name or "").strip()) or None
    if text.endswith("-hosting"):
        return line(spelling, "fine_tuning_hosting")
    if text.endswith("input-tokens"):
        return tokens(spelling, "input")
    if text.endswith("output-tokens"):
        return tokens(spelling, "output")
    return unread(spelling if spelling and (who := identify(spelling)) and who.known else None)
