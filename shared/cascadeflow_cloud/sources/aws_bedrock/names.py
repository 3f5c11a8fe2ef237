"""What a Bedrock bill line is, from its Cost Explorer SERVICE and USAGE_TYPE (pure).

The same strings are CUR's ``product_servicename`` / ``line_item_usage_type``. Two families:

* First-party (service ``Amazon Bedrock``): ``<REGION>-<Model>-<what>[-<qualifiers>]``, e.g.
  ``USE1-Claude4.6Sonnet-cache-read-input-token-count``,
  ``USE1-Nova2.0Pro-text-input-tokens-priority-cross-region-global``,
  ``USE1-qwen.qwen3-32b-mantle-input-tokens-standard``. The model is the part between the
  region and the token marker, looked up in the catalog.
* Marketplace (service ``<Model> (Amazon Bedrock Edition)``): ``<REGION>-MP:<REGION>_<what>-Units``
  in two generations, ``InputTokenCount_Global_Batch`` and the snake case
  ``cache_write_tokens_1h_standard``. The model comes from the service name.

Both are read as words (CamelCase, ``-`` and ``_`` split), so the qualifiers may come in any
order: the tier (batch, flex, priority, latency-optimized), the cross-region / global
marker, the modality (text, image, speech / audio, video), long context (``lctx``), the
cache-write lifetime (``1h``; a write that names none is 5 minutes). Non-token lines —
provisioned throughput (a commitment term makes it Committed), custom-model training and
storage, guardrails, knowledge bases, agents / AgentCore, images — get their kind and keep
the model where the line names one; search units, data automation, evaluations and flows are
read as kind ``other``. A line none of this reads is kept as kind
``other``, ``mapped=False``.

>>> line = classify("Amazon Bedrock", "USE1-Claude4.6Sonnet-cache-write-input-token-count")
>>> line.model, line.region, line.token_type, line.cache_ttl
('claude-sonnet-4-6', 'us-east-1', 'cache_write', '5m')
>>> line = classify("Claude Sonnet 4.6 (Amazon Bedrock Edition)",
...                 "USE1-MP:USE1_cache_write_tokens_1h_standard-Units")
>>> line.model, line.token_type, line.cache_ttl
('claude-sonnet-4-6', 'cache_write', '1h')
>>> classify("Amazon Bedrock", "USE1-NovaLite-output-tokens-batch").tier
'batch'
"""

from __future__ import annotations

import re

from cascadeflow_cloud.catalog import identify
from cascadeflow_cloud.schema import (
    CacheWriteTtl,
    ChargeKind,
    ContextTier,
    Modality,
    PricingCategory,
    ServiceTier,
    TokenType,
)
from cascadeflow_cloud.sources.billing_line import BillingLine, line, unread

#: The first-party service; Marketplace model services end with the suffix.
BEDROCK_SERVICE = "Amazon Bedrock"
MARKETPLACE_SUFFIX = " (Amazon Bedrock Edition)"

#: Usage-type region prefixes (AWS billing codes) → region ids.
AWS_REGION_CODES: dict[str, str] = {
    "USE1": "us-east-1", "USE2": "us-east-2", "USW1": "us-west-1", "USW2": "us-west-2",
    "CAN1": "ca-central-1", "CAN2": "ca-west-1", "SAE1": "sa-east-1", "EU": "eu-west-1",
    "EUW1": "eu-west-1", "EUW2": "eu-west-2", "EUW3": "eu-west-3", "EUC1": "eu-central-1",
    "EUC2": "eu-central-2", "EUN1": "eu-north-1", "EUS1": "eu-south-1", "EUS2": "eu-south-2",
    "APN1": "ap-northeast-1", "APN2": "ap-northeast-2", "APN3": "ap-northeast-3",
    "APS1": "ap-southeast-1", "APS2": "ap-southeast-2", "APS3": "ap-south-1",
    "APS4": "ap-southeast-3", "APS5": "ap-south-2", "APS6": "ap-southeast-4",
    "APE1": "ap-east-1", "MES1": "me-south-1", "MEC1": "me-central-1", "ILC1": "il-central-1",
    "AFS1": "af-south-1", "UGW1": "us-gov-west-1", "UGE1": "us-gov-east-1",
}

_REGION = re.compile(r"^([A-Z]{2,4}\d?)-")
_MARKETPLACE_USAGE = re.compile(
    r"^(?:[A-Z]{2,4}\d?-)?MP:(?:[A-Z]{2,4}\d?_)?(?P<what>.+?)(?:-Units)?$")
#: A first-party token marker: ``[-mantle][-<modality>]-<direction>[-<modality>]-<unit>``.
_TOKEN_MARKER = re.compile(
    r"-(?:mantle-)?(?:(?P<mod1>text|speech|audio|image|video)-)?"
    r"(?P<dir>cache-read-input|cache-write-input|cache-read|cache-write|input|output)-"
    r"(?:(?P<mod2>text|speech|audio|image|video)-)?(?:tokens?|token-count)(?=-|$)",
    re.IGNORECASE)
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+[a-z]*", re.ASCII)
_MODALITY: dict[str, Modality] = {"text": "text", "image": "image", "speech": "audio",
                                  "audio": "audio", "video": "video"}
_DIRECTION: dict[str, TokenType] = {"input": "input", "output": "output",
                                    "cache-read-input": "cache_read", "cache-read": "cache_read",
                                    "cache-write-input": "cache_write",
                                    "cache-write": "cache_write"}
#: Words of a Marketplace token usage type → its token type (first match wins).
_MARKETPLACE_DIRECTIONS: tuple[tuple[frozenset[str], TokenType], ...] = (
    (frozenset({"cache", "read"}), "cache_read"), (frozenset({"cache", "write"}), "cache_write"),
    (frozenset({"input"}), "input"), (frozenset({"output"}), "output"))
#: Words of a non-token line → its kind (first match wins, in this order).
_KIND_WORDS: tuple[tuple[frozenset[str], ChargeKind], ...] = (
    (frozenset({"guardrail", "guardrails"}), "guardrail"),
    (frozenset({"knowledgebase", "knowledgebases"}), "knowledge_base"),
    (frozenset({"agentcore", "agent", "agents"}), "agent_runtime"),
    (frozenset({"provisionedthroughput", "provisioned"}), "provisioned_capacity"),
    (frozenset({"customization", "training", "train"}), "fine_tuning_training"),
    (frozenset({"custommodelstorage", "modelstorage"}), "fine_tuning_hosting"),
    (frozenset({"cachestorage"}), "cache_storage"),
    (frozenset({"image", "images"}), "image"),
    (frozenset({"video", "videos"}), "video"),
    (frozenset({"audio", "speech"}), "audio"),
)


#: Words of lines that are read but have no charge kind of their own (kind ``other``, mapped).
_READ_AS_OTHER = frozenset({"dataautomation", "evaluation", "evaluations", "flows", "flow"})


def is_bedrock_service(service: str | None) -> bool:
    """True for every service billed for Bedrock: ``Amazon Bedrock`` and the services named
    after it (``Amazon Bedrock AgentCore`` …) and every Marketplace ``… (Amazon Bedrock
    Edition)``.

    >>> is_bedrock_service("Claude Haiku 4.5 (Amazon Bedrock Edition)")
    True
    >>> is_bedrock_service("Amazon Bedrock AgentCore"), is_bedrock_service("Amazon EC2")
    (True, False)
    """
    return service is not None and (service.startswith(BEDROCK_SERVICE)
                                    or service.endswith(MARKETPLACE_SUFFIX))


def _words(text: str) -> list[str]:
    """Lower-case words of a usage-type part: CamelCase, ``-``, ``_``, ``.`` all split, and
    ``ProvisionedThroughput`` / ``CacheStorage`` also kept glued (``provisionedthroughput``)."""
    parts = [p for p in re.split(r"[-_.:\s]+", text) if p]
    out: list[str] = []
    for part in parts:
        pieces = [w.lower() for w in _WORDS.findall(part)] or [part.lower()]
        out.extend(pieces)
        if len(pieces) > 1:
            out.append(part.lower())
    return out


def _qualifiers(words: list[str]) -> tuple[ServiceTier, ContextTier | None,
                                           CacheWriteTtl | None, bool]:
    """Tier, context tier, cache-write lifetime and "a lifetime other than 5m/1h" from words."""
    joined = "-".join(words)
    tier: ServiceTier = "standard"
    if "batch" in words:
        tier = "batch"
    elif "flex" in words:
        tier = "flex"
    elif "priority" in words:
        tier = "priority"
    elif "latency-optimized" in joined or "latencyoptimized" in words:
        tier = "latency_optimized"
    context: ContextTier | None = "long" if {"lctx", "long"} & set(words) else None
    ttl: CacheWriteTtl | None = None
    odd_ttl = False
    for word in words:
        if re.fullmatch(r"\d+[mh]", word):
            if word in ("5m", "1h"):
                ttl = "1h" if word == "1h" else "5m"
            else:
                odd_ttl = True
    return tier, context, ttl, odd_ttl


def _kind_of(words: list[str]) -> ChargeKind | None:
    found = set(words)
    for names, kind in _KIND_WORDS:
        if names & found:
            return kind
    return None


def _tokens(model: str | None, direction: TokenType, modality: Modality, words: list[str],
            region: str | None) -> BillingLine:
    tier, context, ttl, odd_ttl = _qualifiers(words)
    writes = direction == "cache_write"
    if writes and ttl is None and not odd_ttl:
        ttl = "5m"  # a write that names no lifetime is the default 5-minute one
    return line(model, "tokens", token_type=direction, region=region, tier=tier,
                modality=modality, context=context, cache_ttl=ttl if writes else None)


def _other_line(model: str | None, words: list[str], region: str | None,
                service_kind: ChargeKind | None) -> BillingLine:
    kind = _kind_of(words) or service_kind
    if kind is None:
        if "searchunits" in words or {"search", "units"} <= set(words) \
                or _READ_AS_OTHER & set(words):
            # rerank search units, data automation, evaluations, flows: read, no kind of their own
            return line(model, "other", region=region)
        return unread(model, region=region)
    tier, context, _, _ = _qualifiers(words)
    pricing: PricingCategory | None = None
    if kind == "provisioned_capacity":
        tier = "provisioned"
        # a commitment term (``1MonthCommit``, ``6MonthCommit``) is Committed; ``NoCommit``
        # (hourly, cancel any time) is not
        committed = any(w.endswith("commit") for w in words) and "nocommit" not in words
        pricing = "Committed" if committed else "Standard"
    modality = _MODALITY.get(kind) if kind in ("image", "video", "audio") else None
    return line(model, kind, region=region, tier=tier, pricing_category=pricing,
                modality=modality, context=context)


def _service_kind(service: str | None) -> ChargeKind | None:
    if service and service.startswith(BEDROCK_SERVICE + " "):
        return _kind_of(_words(service[len(BEDROCK_SERVICE):]))
    return None


def classify(service: str | None, usage_type: str | None,
             detail: str | None = None) -> BillingLine:
    """The ``BillingLine`` of a (SERVICE, USAGE_TYPE) pair; ``detail`` is not used (Cost
    Explorer has no third name; kept for the common mapper signature).

    >>> classify("Amazon Bedrock", "USE1-Guardrail-AutomatedReasoningPolicyUnitsConsumed").kind
    'guardrail'
    >>> image = "USE1-Nova2.0Pro-input-image-token-count-cross-region-global"
    >>> l = classify("Amazon Bedrock", image)
    >>> l.token_type, l.modality, l.model
    ('input', 'image', 'nova-2-pro')
    >>> classify("Amazon Bedrock", "USE1-SomethingNew-Hours").mapped
    False
    """
    usage = (usage_type or "").strip()
    region_match = _REGION.match(usage)
    region = AWS_REGION_CODES.get(region_match.group(1)) if region_match else None
    model: str | None = None
    if service and service.endswith(MARKETPLACE_SUFFIX):
        model = service[: -len(MARKETPLACE_SUFFIX)].strip() or None
    service_kind = _service_kind(service)
    if m := _MARKETPLACE_USAGE.match(usage):
        return _marketplace(model, m.group("what"), region, service_kind)
    rest = usage[region_match.end():] if region_match else usage
    if m := _TOKEN_MARKER.search(rest):
        model = model or _spelled_model(rest, m)
        token_type = _DIRECTION[m.group("dir").lower()]
        modality = _MODALITY[(m.group("mod1") or m.group("mod2") or "text").lower()]
        return _tokens(model, token_type, modality, _words(rest[m.end():]), region)
    words = _words(rest)
    lower = rest.lower()
    for marker in ("-search-units", "-searchunits"):
        if model is None and marker in lower:
            model = rest[: lower.index(marker)] or None
    return _other_line(model or _known_model(rest), words, region, service_kind)


def _spelled_model(rest: str, marker: re.Match[str]) -> str | None:
    """The model part of a first-party usage type: before the token marker — or with the
    modality word when only that is a known model (``TitanEmbeddingsG1-Text-input-tokens``)."""
    short = rest[: marker.start()] or None
    if short and marker.group("mod1"):
        who = identify(short)
        longer = identify(f"{short}-{marker.group('mod1')}")
        if not (who and who.known) and longer and longer.known:
            return longer.spelling
    return short


def _known_model(rest: str) -> str | None:
    """The longest run of ``-``-separated parts of a non-token usage type that the catalog
    knows (``NovaCanvas`` in ``USE1-NovaCanvas-T2I-1024-Standard``), else None: a part that
    names no known model is never taken for one.

    >>> _known_model("Customization-Training-NovaLite"), _known_model("Guardrail-Units")
    ('NovaLite', None)
    """
    parts = rest.split("-")[:12]
    for size in range(len(parts), 0, -1):
        for start in range(len(parts) - size + 1):
            who = identify("-".join(parts[start:start + size]))
            if who is not None and who.known:
                return who.spelling
    return None


def _marketplace(model: str | None, what: str, region: str | None,
                 service_kind: ChargeKind | None) -> BillingLine:
    """A Marketplace usage type's part after ``MP:<REGION>_``: both generations."""
    words = _words(what)
    found = set(words)
    direction = next((d for need, d in _MARKETPLACE_DIRECTIONS if need <= found), None) \
        if {"token", "tokens"} & found else None
    if direction is not None:
        modality: Modality = next((_MODALITY[w] for w in words if w in _MODALITY), "text")
        return _tokens(model, direction, modality, words, region)
    if "cache" in found and "storage" in found:
        words = [*words, "cachestorage"]
    return _other_line(model, words, region, service_kind)
