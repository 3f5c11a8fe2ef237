"""The cloud permissions each component uses, declared next to the code (IAM from the code).

Terraform grants each function exactly the union of its components' actions; a test compares
the two. ``Resource "*"`` is allowed only for actions in ``RESOURCE_STAR_ONLY`` (APIs that
accept no narrower resource, such as Cost Explorer).

>>> sorted(actions_for("ingest_aws_bedrock"))[:2]
['ce:GetCostAndUsage', 'cloudwatch:GetMetricData']
"""

from __future__ import annotations

#: IAM actions per component (a source, a channel, the lake, …).
COMPONENT_ACTIONS: dict[str, frozenset[str]] = {
    "lake_read": frozenset({"s3:GetObject", "s3:ListBucket"}),
    "lake_write": frozenset({"s3:GetObject", "s3:ListBucket", "s3:PutObject", "s3:DeleteObject"}),
    "kms_lake": frozenset({"kms:Decrypt", "kms:GenerateDataKey"}),
    "secrets": frozenset({"secretsmanager:GetSecretValue"}),
    "aws_bedrock_source": frozenset({"ce:GetCostAndUsage", "cloudwatch:GetMetricData"}),
    "azure_openai_source": frozenset(),  # Azure RBAC: Cost Management Reader (infra/modules/azure)
    "gcp_vertex_source": frozenset(),  # GCP IAM: BigQuery viewer + job user (infra/modules/gcp)
    "xray": frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords"}),
    "dead_letter": frozenset({"sqs:SendMessage"}),
}

#: Actions whose API has no resource-level scoping.
RESOURCE_STAR_ONLY: frozenset[str] = frozenset(
    {"ce:GetCostAndUsage", "cloudwatch:GetMetricData", "xray:PutTraceSegments",
     "xray:PutTelemetryRecords"}
)

#: Components per deployable function (the module name in ``functions/``).
FUNCTION_COMPONENTS: dict[str, tuple[str, ...]] = {
    "collect_events": ("lake_write", "kms_lake", "secrets"),
    "ingest_aws_bedrock": ("lake_write", "kms_lake", "aws_bedrock_source"),
    "ingest_azure_openai": ("lake_write", "kms_lake", "secrets", "azure_openai_source"),
    "ingest_gcp_vertex": ("lake_write", "kms_lake", "secrets", "gcp_vertex_source"),
    "forecast_budgets": ("lake_write", "kms_lake"),
    "notify": ("lake_write", "kms_lake", "secrets"),
    "meter_stripe": ("lake_write", "kms_lake", "secrets"),
    "detect_anomalies": ("lake_write", "kms_lake"),
    "compact_events": ("lake_write", "kms_lake"),
}


def actions_for(function: str) -> frozenset[str]:
    """Every IAM action the named function needs."""
    actions: set[str] = set()
    for component in FUNCTION_COMPONENTS[function]:
        actions |= COMPONENT_ACTIONS[component]
    return frozenset(actions)
