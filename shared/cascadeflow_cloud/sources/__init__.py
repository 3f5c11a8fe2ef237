"""Billing sources: where billed LLM cost comes from (one module per cloud).

Each source module is imported only when used, so ``import cascadeflow_cloud.sources`` stays
light. ``SOURCE_MODULES`` maps a provider id to its module.

>>> sorted(SOURCE_MODULES)
['aws_bedrock', 'azure_openai', 'gcp_vertex']
"""

from __future__ import annotations

SOURCE_MODULES: dict[str, str] = {
    "aws_bedrock": "cascadeflow_cloud.sources.aws_bedrock",
    "azure_openai": "cascadeflow_cloud.sources.azure_openai",
    "gcp_vertex": "cascadeflow_cloud.sources.gcp_vertex",
}

#: The CLI kind for each source (``ingest aws-bedrock …``).
CLI_KINDS: dict[str, str] = {name.replace("_", "-"): name for name in SOURCE_MODULES}
