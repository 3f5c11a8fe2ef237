"""Billing line names → model, region and token type (pure, lenient, never guessing).

Each cloud names its LLM charges differently: AWS in usage types (and, for Marketplace models,
in the service name), Azure in meter names, GCP in SKU descriptions. These functions read what
the name says and nothing more. A name whose token type cannot be read maps to ``other`` with
``mapped=False`` — the row is kept and counted, never dropped or priced as something else.

>>> m = map_aws("Claude 3.5 Sonnet (Amazon Bedrock Edition)",
...             "USE1-MP:USE1_CacheReadInputTokenCount-Units")
>>> m.model, m.region, m.token_type
('anthropic.claude-3-5-sonnet-20240620-v1:0', 'us-east-1', 'cache_read')
>>> map_azure("gpt-4o-mini-0718-Outp-glbl Tokens").token_type
'output'
>>> map_gcp("Gemini 2.5 Flash GA Text Input - Predictions")
Mapped(model='gemini-2.5-flash', region=None, token_type='input', mapped=True)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import NamedTuple

from cascadeflow_cloud.schema import TokenType
from cascadeflow_cloud.sources.billing_line import BillingLine, tokens, unread


class Mapped(NamedTuple):
    """What a billing line name says: model, region and token type."""

    model: str | None
    region: str | None
    token_type: TokenType
    mapped: bool

    def line(self) -> BillingLine:
        """As the ``BillingLine`` every source writes (token lines; the rest ``other``)."""
        if not self.mapped:
            return unread(self.model, region=self.region)
        return tokens(self.model, self.token_type, region=self.region)


def aws_line(service: str | None, usage_type: str | None) -> BillingLine:
    """``map_aws`` as a ``BillingLine``."""
    return map_aws(service, usage_type).line()


def azure_line(meter: str | None, sub_category: str | None = None) -> BillingLine:
    """``map_azure`` as a ``BillingLine``."""
    return map_azure(meter, sub_category).line()


def gcp_line(description: str | None) -> BillingLine:
    """``map_gcp`` as a ``BillingLine``."""
    return map_gcp(description).line()


# -- AWS -----------------------------------------------------------------------------------

#: Marketplace model services end with this suffix; "Amazon Bedrock" is the first-party one.
BEDROCK_SERVICE = "Amazon Bedrock"
MARKETPLACE_SUFFIX = " (Amazon Bedrock Edition)"

#: Usage-type region prefixes (AWS billing codes) → region ids.
AWS_REGION_CODES: dict[str, str] = {
    "USE1": "us-east-1", "USE2": "us-east-2", "USW1": "us-west-1", "USW2": "us-west-2",
    "CAN1": "ca-central-1", "SAE1": "sa-east-1", "EU": "eu-west-1", "EUW1": "eu-west-1",
    "EUW2": "eu-west-2", "EUW3": "eu-west-3", "EUC1": "eu-central-1", "EUC2": "eu-central-2",
    "EUN1": "eu-north-1", "EUS1": "eu-south-1", "EUS2": "eu-south-2", "APN1": "ap-northeast-1",
    "APN2": "ap-northeast-2", "APN3": "ap-northeast-3", "APS1": "ap-southeast-1",
    "APS2": "ap-southeast-2", "APS3": "ap-south-1", "APS4": "ap-southeast-3",
    "APS5": "ap-south-2", "APE1": "ap-east-1", "MES1": "me-south-1", "MEC1": "me-central-1",
    "AFS1": "af-south-1", "UGW1": "us-gov-west-1", "UGE1": "us-gov-east-1",
}

#: Marketplace service names (without the suffix) → Bedrock model ids, where one id is certain.
AWS_MARKETPLACE_MODELS: dict[str, str] = {
    "Claude 3 Haiku": "anthropic.claude-3-haiku-20240307-v1:0",
    "Claude 3 Sonnet": "anthropic.claude-3-sonnet-20240229-v1:0",
    "Claude 3 Opus": "anthropic.claude-3-opus-20240229-v1:0",
    "Claude 3.5 Sonnet": "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "Claude 3.5 Sonnet v2": "anthropic.claude-3-5-sonnet-20241022-v2:0",
    "Claude 3.5 Haiku": "anthropic.claude-3-5-haiku-20241022-v1:0",
    "Claude 3.7 Sonnet": "anthropic.claude-3-7-sonnet-20250219-v1:0",
    "Claude Sonnet 4": "anthropic.claude-sonnet-4-20250514-v1:0",
    "Claude Opus 4": "anthropic.claude-opus-4-20250514-v1:0",
    "Claude Opus 4.1": "anthropic.claude-opus-4-1-20250805-v1:0",
    "Claude Sonnet 4.5": "anthropic.claude-sonnet-4-5-20250929-v1:0",
    "Claude Haiku 4.5": "anthropic.claude-haiku-4-5-20251001-v1:0",
}

_AWS_REGION = re.compile(r"^([A-Z]{2,3}\d?)-")
_AWS_MP = re.compile(
    r"(CacheWrite1hInputTokenCount|CacheWriteInputTokenCount|CacheReadInputTokenCount"
    r"|InputTokenCount|OutputTokenCount)(_Global)?(_Batch)?-Units$"
)
_AWS_NEW = re.compile(
    r"_(cache_read_input|cache_write_input|cache_write_1h_input|input|output)_tokens"
    r"(?:_[a-z0-9_]+)?-Units$"
)
_AWS_FIRST_PARTY = re.compile(
    r"^(?:[A-Z]{2,3}\d?-)?(?P<model>.+?)-(?:mantle-)?"
    r"(?P<kind>cache-read-input-token-count|cache-write-input-token-count"
    r"|input-tokens|output-tokens)(?:-[A-Za-z0-9]+)*$"
)
_AWS_KINDS: dict[str, TokenType] = {
    "CacheWrite1hInputTokenCount": "cache_write", "CacheWriteInputTokenCount": "cache_write",
    "CacheReadInputTokenCount": "cache_read", "InputTokenCount": "input",
    "OutputTokenCount": "output", "cache_read_input": "cache_read",
    "cache_write_input": "cache_write", "cache_write_1h_input": "cache_write",
    "input": "input", "output": "output", "cache-read-input-token-count": "cache_read",
    "cache-write-input-token-count": "cache_write", "input-tokens": "input",
    "output-tokens": "output",
}


def is_bedrock_service(service: str | None) -> bool:
    """True for ``Amazon Bedrock`` and every Marketplace ``… (Amazon Bedrock Edition)``.

    >>> is_bedrock_service("Claude Haiku 4.5 (Amazon Bedrock Edition)")
    True
    >>> is_bedrock_service("Amazon EC2")
    False
    """
    return service is not None and (service == BEDROCK_SERVICE
                                    or service.endswith(MARKETPLACE_SUFFIX))


def map_aws(service: str | None, usage_type: str | None) -> Mapped:
    """Model, region and token type of a Cost Explorer (SERVICE, USAGE_TYPE) pair.

    Marketplace models take the model from the service name; first-party usage types carry
    it themselves (``USE1-NovaLite-input-tokens`` → ``NovaLite``).
    """
    usage = usage_type or ""
    region_match = _AWS_REGION.match(usage)
    region = AWS_REGION_CODES.get(region_match.group(1)) if region_match else None
    model: str | None = None
    if service and service.endswith(MARKETPLACE_SUFFIX):
        name = service[: -len(MARKETPLACE_SUFFIX)].strip()
        model = AWS_MARKETPLACE_MODELS.get(name, name)
    kind: str | None = None
    if (m := _AWS_MP.search(usage)) or (m := _AWS_NEW.search(usage)):
        kind = m.group(1)
    elif m := _AWS_FIRST_PARTY.match(usage):
        kind = m.group("kind")
        model = model or m.group("model")
    elif model is None and region_match:
        model = None  # a first-party usage type we cannot read: keep the row, no model
    if kind is None:
        return Mapped(model, region, "other", False)
    return Mapped(model, region, _AWS_KINDS[kind], True)


# -- Azure ---------------------------------------------------------------------------------

_AZ_SPLIT = re.compile(r"[\s\-_]+")
_AZ_INPUT = {"inp", "input", "inpt", "in"}
_AZ_OUTPUT = {"outp", "output", "opt", "out", "outpt"}
_AZ_CACHED = {"cached", "cd", "cache", "cchd"}
_AZ_STOP = _AZ_INPUT | _AZ_OUTPUT | _AZ_CACHED | {
    "glbl", "global", "gl", "regnl", "regional", "reg", "dzone", "dz", "data", "batch",
    "tokens", "token", "pp", "1m", "1k", "ft", "training", "hosting",
}
#: (family, MMDD) → the model version's release date, for the versions Azure meters name.
_AZ_VERSIONS: dict[tuple[str, str], str] = {
    ("gpt-4o", "0513"): "gpt-4o-2024-05-13", ("gpt-4o", "0806"): "gpt-4o-2024-08-06",
    ("gpt-4o", "1120"): "gpt-4o-2024-11-20", ("gpt-4o-mini", "0718"): "gpt-4o-mini-2024-07-18",
    ("o1", "1217"): "o1-2024-12-17", ("o3-mini", "0131"): "o3-mini-2025-01-31",
}


def map_azure(meter: str | None, sub_category: str | None = None) -> Mapped:
    """Model and token type of an Azure meter name (inconsistent across generations).

    >>> map_azure("gpt 4o 0513 Input global Tokens")
    Mapped(model='gpt-4o-2024-05-13', region=None, token_type='input', mapped=True)
    >>> map_azure("gpt 4o 1120 cached Inp glbl").token_type
    'cache_read'
    >>> map_azure("Provisioned Managed Unit")
    Mapped(model=None, region=None, token_type='other', mapped=False)
    """
    words = [w for w in _AZ_SPLIT.split((meter or "").lower()) if w]
    cached = any(w in _AZ_CACHED for w in words)
    found: TokenType = "other"
    if any(w in _AZ_INPUT for w in words):
        found = "cache_read" if cached else "input"
    elif any(w in _AZ_OUTPUT for w in words):
        found = "output"
    if found == "other":
        return Mapped(None, None, "other", False)
    head: list[str] = []
    for word in words:
        if word in _AZ_STOP:
            break
        head.append(word)
    version = head.pop() if head and re.fullmatch(r"\d{4}", head[-1]) else None
    if head and head[0] == "gpt" and len(head) > 1 and not head[1].startswith("-"):
        head = ["gpt-" + head[1], *head[2:]]
    elif head and head[0].isdigit():
        head = ["gpt-" + head[0], *head[1:]]  # "5 mini …" meters of the GPT-5 family
    family = "-".join(head) or None
    model = family
    if family and version:
        model = _AZ_VERSIONS.get((family, version), f"{family}-{version}")
    return Mapped(model, None, found, True)


# -- GCP -----------------------------------------------------------------------------------

_GCP_STOP = {"ga", "preview", "text", "image", "audio", "video", "input", "output",
             "thinking", "cached", "caching", "global", "batch", "long", "short", "tuning",
             "online", "prediction", "predictions", "multimodal", "and", "-", "tokens",
             "characters", "context", "1m", "128k", "regional"}


def map_gcp(description: str | None) -> Mapped:
    """Model and token type of a Vertex AI SKU description.

    >>> map_gcp("Gemini 2.5 Pro Text and Thinking Output (≤200k)").token_type
    'output'
    >>> map_gcp("Gemini 2.5 Flash Text Input Caching Storage").token_type
    'other'
    """
    text = description or ""
    lower = text.lower()
    words = lower.replace("(", " (").split()
    found: TokenType = "other"
    if "storage" in words:
        found = "other"
    elif ("caching" in words or "cached" in words) and "input" in words:
        found = "cache_read"
    elif "input" in words:
        found = "input"
    elif "output" in words:
        found = "output"
    head: list[str] = []
    for word in words:
        if word in _GCP_STOP or word.startswith("("):
            break
        head.append(word)
    model = "-".join(head) if head and head[0] in {"gemini", "claude", "llama", "gemma",
                                                   "mistral", "imagen", "veo"} else None
    return Mapped(model, None, found, found != "other")


# -- vectorised helpers --------------------------------------------------------------------

def map_unique(
    keys: Sequence[tuple[str | None, ...]], fn: Callable[..., Mapped]
) -> tuple[list[Mapped], list[int]]:
    """Map each distinct key once; return the distinct results and an index per input.

    >>> maps, idx = map_unique([("a",), ("b",), ("a",)], lambda k: Mapped(k, None, "other", False))
    >>> [maps[i].model for i in idx]
    ['a', 'b', 'a']
    """
    seen: dict[tuple[str | None, ...], int] = {}
    results: list[Mapped] = []
    index = []
    for key in keys:
        pos = seen.get(key)
        if pos is None:
            pos = seen[key] = len(results)
            results.append(fn(*key))
        index.append(pos)
    return results, index
