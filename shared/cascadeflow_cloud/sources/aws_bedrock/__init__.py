"""AWS Bedrock billed cost from Cost Explorer ``GetCostAndUsage`` (extra ``aws``).

Daily ``UnblendedCost`` (+ ``AmortizedCost`` when configured) and ``UsageQuantity`` of every
service billed for Bedrock — ``Amazon Bedrock``, ``Amazon Bedrock …`` services and the
Marketplace model services (``Claude … (Amazon Bedrock Edition)``, where most Claude spend is
billed), found from the data by the discovery query. The parts:

* ``names`` — what a (SERVICE, USAGE_TYPE) line is (``classify``), pure;
* ``parse`` — ``GetCostAndUsage`` pages → cost rows; ``files`` — response files → cost rows;
* ``costexplorer`` — the request plan, the counted client, ``AwsBedrockCostSource``.

>>> classify("Amazon Bedrock", "USE1-NovaPro-input-tokens").model
'nova-pro'
"""

from __future__ import annotations

from cascadeflow_cloud.sources.aws_bedrock.costexplorer import (
    COMPONENT,
    THROTTLE_CODES,
    AwsBedrockCostSource,
    build_request,
    discovered_pairs,
    make_client,
    plan_requests,
)
from cascadeflow_cloud.sources.aws_bedrock.files import (
    iter_pages,
    parse_files,
    pulls_from_files,
    read_file_arrow,
    read_files,
)
from cascadeflow_cloud.sources.aws_bedrock.names import (
    BEDROCK_SERVICE,
    MARKETPLACE_SUFFIX,
    classify,
    is_bedrock_service,
)
from cascadeflow_cloud.sources.aws_bedrock.parse import (
    BILLED_METRICS,
    EFFECTIVE_METRICS,
    finish_raw,
    page_problem,
    parse_pages,
)

#: The live source from its config section (the registry's entry point).
open_source = AwsBedrockCostSource

__all__ = [
    "BEDROCK_SERVICE",
    "BILLED_METRICS",
    "COMPONENT",
    "EFFECTIVE_METRICS",
    "MARKETPLACE_SUFFIX",
    "THROTTLE_CODES",
    "AwsBedrockCostSource",
    "build_request",
    "classify",
    "discovered_pairs",
    "finish_raw",
    "is_bedrock_service",
    "iter_pages",
    "make_client",
    "open_source",
    "page_problem",
    "parse_files",
    "parse_pages",
    "plan_requests",
    "pulls_from_files",
    "read_file_arrow",
    "read_files",
]
