"""Azure OpenAI / Foundry Models billed cost from the Cost Management Query API (extra ``azure``).

``query`` pulls (``AzureOpenAICostSource``), ``parse`` turns Query API results into cost rows,
``files`` reads saved results, ``names`` classifies each meter (model, token type, charge
kind, tier). Callers import from here.

>>> from cascadeflow_cloud.sources.azure_openai import classify
>>> line = classify("Cognitive Services", "o3 0416 Batch Inp glbl Tokens")
>>> line.model, line.token_type, line.tier
('o3-2025-04-16', 'input', 'batch')
"""

from __future__ import annotations

from cascadeflow_cloud.sources.azure_openai.files import (
    BULK_FILES,
    iter_files,
    iter_pages,
    parse_files,
    pulls_from_files,
    read_files,
    read_files_bulk,
)
from cascadeflow_cloud.sources.azure_openai.names import classify, classify_charge
from cascadeflow_cloud.sources.azure_openai.parse import (
    COST_COLUMNS,
    page_problem,
    parse_responses,
    scope_of,
)
from cascadeflow_cloud.sources.azure_openai.query import (
    CLOUD_ROLES,
    COMPONENT,
    MAX_DAYS_PER_QUERY,
    RETRY_AFTER_HEADERS,
    AzureOpenAICostSource,
    build_query,
    make_client,
    query_filter,
    retry_after,
)

#: The live source from its config section (the registry's entry point).
open_source = AzureOpenAICostSource

__all__ = [
    "BULK_FILES",
    "CLOUD_ROLES",
    "COMPONENT",
    "COST_COLUMNS",
    "MAX_DAYS_PER_QUERY",
    "RETRY_AFTER_HEADERS",
    "AzureOpenAICostSource",
    "build_query",
    "classify",
    "classify_charge",
    "iter_files",
    "iter_pages",
    "make_client",
    "open_source",
    "page_problem",
    "parse_files",
    "parse_responses",
    "pulls_from_files",
    "query_filter",
    "read_files",
    "read_files_bulk",
    "retry_after",
    "scope_of",
]
