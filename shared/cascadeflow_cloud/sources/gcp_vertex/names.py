"""What a GCP billing line is, from its service and SKU description (pure).

The billing export names a Vertex AI charge in ``sku.description`` under ``service.description``.
The forms seen on real bills and in the Cloud Billing Catalog:

* Gemini: ``<model> [GA] [Global] <Text|Image|Audio|Video> <Input|Output> [(Long)] -
  [Batch] Predictions``, ``<model> Thinking Text Output …``, ``… Output (Thinking On) …``,
  cached input as ``<model> Input Text Caching`` / ``<model> Text Input Caching`` (a cache read),
  ``… Caching Storage`` (cache storage, billed per hour), ``… Priority`` / ``… Flex`` tiers, the
  long-context band as ``(Long)``, ``Long Context`` or ``(>200k)`` / ``(≤200k)``;
* older token SKUs: ``Gemini 1.5 Flash Input tokens``; Model Garden "Model as a Service":
  ``Cloud Vertex AI Model Garden Model as a Service Llama 4 Maverick Batch Input Token``;
* Claude on Vertex (billed under its own service, e.g. "Claude Sonnet 4.6"): fields split by an
  em dash — ``Claude Sonnet 4.6 — Input Cache Read Tokens — global — Context Window Size from 0
  to 200000 Tokens``; the cache-write lifetime as ``(TTL 3600 seconds)``;
* grounding (``LLM Grounding with Google Search tool - Predictions``, ``Vertex AI Search:
  Grounded Generation``), tuning, Provisioned Throughput, Vertex AI Search requests (a knowledge
  base), Dialogflow / Vertex AI Conversation agent interactions, Imagen images and Veo video
  seconds.

The model comes from the catalog (``cascadeflow_cloud.catalog``); a name it does not know stays
verbatim. A SKU whose kind cannot be read is kept as kind ``other`` (``mapped=False``).

>>> line = classify("Vertex AI", "Gemini 2.5 Pro Text Input (Long) - Batch Predictions")
>>> line.model, line.token_type, line.tier, line.context
('gemini-2.5-pro', 'input', 'batch', 'long')
>>> line = classify("Claude Sonnet 4.6", "Claude Sonnet 4.6 — Input Cache Read Tokens — global "
...                 "— Context Window Size from 0 to 200000 Tokens")
>>> line.model, line.token_type, line.region, line.context
('claude-sonnet-4-6', 'cache_read', 'global', 'standard')
>>> classify("Vertex AI", "Gemini 2.5 Flash Text Input Caching Storage").kind
'cache_storage'
"""

from __future__ import annotations

import re

from cascadeflow_cloud.catalog import Identity, identify
from cascadeflow_cloud.schema import (
    CacheWriteTtl,
    ChargeKind,
    ContextTier,
    Modality,
    ServiceTier,
    TokenType,
)
from cascadeflow_cloud.sources.billing_line import BillingLine, line, tokens, unread

#: Prefixes before the model's name that name the product, not the model.
_PREFIXES = ("cloud vertex ai model garden model as a service ", "ai dev tools: ",
             "vertex ai: ")
#: Words that end a model's name in a SKU description (what follows describes the charge).
_STOP = {"ga", "global", "regional", "text", "image", "audio", "video", "input", "output",
         "thinking", "cached", "caching", "cache", "batch", "long", "short", "tuning",
         "prediction", "predictions", "tokens", "token", "characters", "character", "priority",
         "flex", "storage", "online", "grounding", "grounded", "context", "-", "requests",
         "request", "count", "generation", "second", "seconds", "provisioned", "multimodal",
         "and", "with", "for", "per"}
#: Words that may start a model's name although they are also descriptive words.
_MODEL_OPENERS = {("text", "embedding"), ("text", "multilingual"), ("multimodal", "embedding")}
_MODALITIES: dict[str, Modality] = {"text": "text", "image": "image", "audio": "audio",
                                    "video": "video"}
#: How the names of the models billed on Vertex begin (a name the catalog does not know is kept
#: verbatim when it starts like one; other leading words, "Vertex AI Online …", are no model).
_FAMILIES = re.compile(r"^(?:gemini|gemma|claude|llama|meta-llama|mistral|mixtral|ministral|"
                       r"codestral|imagen|veo|chirp|lyria|deepseek|qwen|jamba|kimi|glm|minimax|"
                       r"gpt-oss|text embedding|text multilingual|multimodal embedding|"
                       r"text-embedding|textembedding|translation llm)", re.IGNORECASE)
_WORD = re.compile(r"\(|\)|[^\s()]+")
_UNKNOWN = Identity("", "", False)
_BAND = re.compile(r"context window size from (\d+) to")
_LONG = re.compile(r"\(long\)|\band long\)|long context|>\s*\d+k")
_SHORT = re.compile(r"\(≤\s*\d+k\)|\(<=\s*\d+k\)|≤\s*\d+k|\(short\)")
_TTL = re.compile(r"ttl (\d+) seconds?|(\d+)\s*h(?:our)?\b")


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in "()"]


def _head(text: str) -> str | None:
    """The model's name: the leading words of ``text`` before the first descriptive word, in
    their original spelling (``Gemini 2.5 Flash`` of ``Gemini 2.5 Flash GA Text Input …``)."""
    original = text.split()
    words = text.lower().split()
    size = 0
    if len(words) > 1 and (words[0], words[1]) in _MODEL_OPENERS:
        size = 2
    while size < len(words) and words[size] not in _STOP and not words[size].startswith("("):
        size += 1
    # the image models ("Gemini 2.5 Flash Image"): "Image" before another modality or before
    # "Output" names the model, not the input's modality (text models output no images)
    if size and size + 1 < len(words) and words[size] == "image" and (
            words[size + 1] in _MODALITIES or words[size + 1] == "output"):
        size += 1
    return " ".join(original[:size]).rstrip(":") or None


def _model(head: str | None) -> str | None:
    """``head`` when it names a model: the catalog knows it, or it starts like a model name."""
    if head and (_FAMILIES.match(head) or (identify(head) or _UNKNOWN).known):
        return head
    return None


def _strip_prefix(text: str) -> str:
    lower = text.lower()
    for prefix in _PREFIXES:
        if lower.startswith(prefix):
            return text[len(prefix):]
    return text


def _tier(words: list[str], text: str) -> ServiceTier:
    if "provisioned" in words or "gsu" in words:
        return "provisioned"
    for word, tier in (("batch", "batch"), ("flex", "flex"), ("priority", "priority")):
        if word in words:
            return tier  # type: ignore[return-value]
    return "standard"


def _context(text: str) -> ContextTier | None:
    lower = text.lower()
    if m := _BAND.search(lower):
        return "standard" if m.group(1) == "0" else "long"
    if _LONG.search(lower):
        return "long"
    if _SHORT.search(lower):
        return "standard"
    return None


def _modality(words: list[str], after_model: int) -> Modality:
    for word in words[after_model:]:
        if word in _MODALITIES:
            return _MODALITIES[word]
    return "text"


def _token_type(words: list[str], text: str) -> TokenType | None:
    lower = text.lower()
    if "cache write" in lower or "cache creation" in lower:
        return "cache_write"
    if ("input" in words or "inputs" in words) and (
            "cached" in words or "caching" in words or "cache read" in lower
            or "cache hit" in lower):
        return "cache_read"
    if "input" in words or "inputs" in words:
        return "input"
    if "output" in words or "outputs" in words:
        return "output"
    return None


def _ttl(text: str) -> CacheWriteTtl:
    m = _TTL.search(text.lower())
    if m and ((m.group(1) and int(m.group(1)) >= 3600) or (m.group(2) and int(m.group(2)) >= 1)):
        return "1h"
    return "5m"


def _service_model(service: str | None) -> str | None:
    """The model a partner service is named after ("Claude Sonnet 4.6"), else None."""
    if not service or service.lower().startswith(("vertex ai", "cloud ", "gemini api")):
        return None
    return service


def _em_dash(text: str, service: str | None) -> BillingLine:
    """``<model> — <token kind> — <region> — Context Window Size from <lo> to <hi> Tokens``."""
    parts = [p.strip() for p in text.split("—")]
    model = _model(_strip_prefix(parts[0])) or _service_model(service)
    kind = parts[1] if len(parts) > 1 else ""
    region = parts[2] if len(parts) > 2 and parts[2] else None
    words = _words(kind)
    token_type = _token_type(words, kind)
    if token_type is None:
        return unread(model, region=region)
    return tokens(model, token_type, region=region, tier=_tier(words, kind),
                  context=_context(text),
                  cache_ttl=_ttl(kind) if token_type == "cache_write" else None)  # noqa: S105


def _non_token(words: list[str], lower: str) -> ChargeKind | None:
    """The kind of a line that is not a token charge, from its words."""
    if "storage" in words and ("caching" in words or "cache" in words or "cached" in words):
        return "cache_storage"
    if "provisioned" in words or "gsu" in words:
        return "provisioned_capacity"
    if "grounding" in words or "grounded" in words or "google search" in lower \
            or "web search" in lower:
        return "search_grounding"
    if "tuning" in words or "training" in words:
        return "fine_tuning_training"
    if lower.startswith("vertex ai search"):  # search, answers, ranking over your data stores
        return "knowledge_base"
    if "dialogflow" in lower or "vertex ai conversation" in lower:
        return "agent_runtime"
    return None


def classify(service: str | None, name: str | None, detail: str | None = None) -> BillingLine:
    """The ``BillingLine`` of one export row: ``service`` is ``service.description``, ``name``
    the SKU description (``detail`` is not used on GCP).

    >>> classify("Vertex AI", "Gemini 2.5 Flash Thinking Text Output - Predictions").token_type
    'output'
    >>> classify("Vertex AI", "Vertex AI Online Prediction: N1 Predefined Instance Core").mapped
    False
    """
    text = (name or "").strip()
    if not text:
        return unread(_service_model(service))
    if "—" in text:
        return _em_dash(text, service)
    body = _strip_prefix(text)
    lower = body.lower()
    words = _words(body)
    model = _model(_head(body))
    after_model = len(model.split()) if model else 0
    tier = _tier(words, body)
    context = _context(body)
    kind = _non_token(words, lower)
    modality = _modality(words, after_model)
    if kind == "cache_storage":
        return line(model, kind, tier=tier, modality=modality, context=context)
    if kind is not None:
        return line(model, kind, tier=tier, context=context)
    family = (model or "").lower().split(" ", 1)[0]
    if family == "imagen" and _token_type(words, body) is None:
        return line(model, "image", tier=tier, modality="image")
    if family == "veo" and _token_type(words, body) is None:
        return line(model, "video", tier=tier, modality="video")
    token_type = _token_type(words, body)
    if token_type is None:
        return unread(model or _service_model(service))
    return tokens(model or _service_model(service), token_type, tier=tier, modality=modality,
                  context=context,
                  cache_ttl=_ttl(body) if token_type == "cache_write" else None)  # noqa: S105
