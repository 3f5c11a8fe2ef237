"""What a call named, reduced to what prices it: the model id, and where the call was served.

>>> resolve_model("aws_bedrock", "ca.anthropic.claude-haiku-4-5-20251001-v1:0")
'anthropic.claude-haiku-4-5-20251001-v1:0'
>>> bedrock_geography("global.anthropic.claude-sonnet-4-5-20250929-v1:0"), bedrock_geography(
...     "eu.anthropic.claude-sonnet-4-5-20250929-v1:0")
('global', 'regional')
>>> bedrock_profile_region("apac.amazon.nova-pro-v1:0"), bedrock_profile_region(
...     "amazon.nova-pro-v1:0")
('ap-', None)
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: Bedrock cross-region inference-profile prefixes (``us.anthropic.…``, ``global.…``).
BEDROCK_PROFILE_PREFIXES = ("us-gov", "us", "eu", "apac", "jp", "au", "ca", "global")
#: The source-region prefix a geography profile can only be called from (its rates' region):
#: used to pick a region's own rates when the call did not say where it ran.
_PROFILE_REGION = {"us-gov": "us-gov-", "us": "us-", "eu": "eu-", "apac": "ap-",
                   "jp": "ap-northeast-1", "au": "ap-southeast-2", "ca": "ca-"}
_PROFILE_RE = re.compile(r"^(?:" + "|".join(BEDROCK_PROFILE_PREFIXES) + r")\.(?=[a-z0-9-]+\.)")
_ARN_RE = re.compile(r"^arn:aws[a-z-]*:bedrock:[a-z0-9-]*:\d*:([a-z-]+)/(.+)$")
_RESOURCE_PATH_RE = re.compile(r"^(?:projects/[^/]+/locations/[^/]+/)?(?:publishers/[^/]+/)?"
                               r"models/(.+)$")


def resolve_model(provider: str, model_ref: str, *,
                  aliases: Mapping[str, str] | None = None) -> str:
    """The model id behind what a call named: an Azure deployment (via ``aliases``), a Bedrock
    inference-profile id or ARN, a Vertex resource path.

    >>> resolve_model("aws_bedrock", "us.anthropic.claude-3-haiku-20240307-v1:0")
    'anthropic.claude-3-haiku-20240307-v1:0'
    >>> resolve_model("gcp_vertex", "publishers/google/models/gemini-2.5-flash")
    'gemini-2.5-flash'
    >>> resolve_model("azure_openai", "prod-chat", aliases={"prod-chat": "gpt-4o-2024-08-06"})
    'gpt-4o-2024-08-06'
    """
    ref = model_ref.strip()
    if aliases and ref in aliases:
        return aliases[ref]
    if provider == "aws_bedrock":
        return _PROFILE_RE.sub("", bedrock_price_ref(ref), count=1)
    if provider == "gcp_vertex":
        match = _RESOURCE_PATH_RE.match(ref)
        return match.group(1) if match else ref
    return ref


def bedrock_price_ref(model_id: str) -> str:
    """The id to price a Bedrock call by: ARNs reduced to their model or inference-profile id,
    the geography prefix kept (regional and global profiles are priced differently).

    >>> bedrock_price_ref("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0")
    'amazon.nova-pro-v1:0'
    """
    match = _ARN_RE.match(model_id)
    if match and match.group(1) in ("foundation-model", "inference-profile"):
        return match.group(2)
    return model_id


def bedrock_geography(price_ref: str) -> str:
    """``global`` for a global cross-region profile, else ``regional``: a geography profile
    (``us.``, ``eu.``, ``apac.``, ``jp.``, ``au.``, ``ca.``, ``us-gov.``) or an in-region id,
    all priced at the model's regional rate (the source region's rate where it differs)."""
    return "global" if bedrock_price_ref(price_ref).startswith("global.") else "regional"


def bedrock_profile_region(price_ref: str) -> str | None:
    """The source-region prefix implied by a geography profile (``eu.`` -> ``eu-``), None for
    in-region ids and ``global.`` profiles (callable from anywhere).

    >>> bedrock_profile_region("eu.anthropic.claude-sonnet-4-5-20250929-v1:0")
    'eu-'
    """
    ref = bedrock_price_ref(price_ref)
    prefix, dot, rest = ref.partition(".")
    return _PROFILE_REGION.get(prefix) if dot and "." in rest else None
