"""The cloud permissions each component uses, declared next to the code (IAM from the code).

Terraform grants each function exactly the union of its components' actions; a test compares
the two. ``Resource "*"`` is allowed only for actions in ``RESOURCE_STAR_ONLY`` (APIs that
accept no narrower resource, such as Cost Explorer).

>>> sorted(actions_for("ingest_aws_bedrock"))[:2]
['ce:GetCostAndUsage', 'kms:Decrypt']
"""

from __future__ import annotations

#: IAM actions per component (a source, a channel, the lake, …).
COMPONENT_ACTIONS: dict[str, frozenset[str]] = {
    "lake_read": frozenset({"s3:GetObject", "s3:ListBucket"}),
    "lake_write": frozenset({"s3:GetObject", "s3:ListBucket", "s3:PutObject", "s3:DeleteObject"}),
    # what each job really calls (tests/infra/test_iam_calls.py records it against moto):
    # an ingest rewrites cost month objects (reads one, puts it back conditionally, deletes a
    # month left empty): lake_write; the forecast and the anomaly detection read the lake and
    # put their artefacts, never deleting
    "lake_publish": frozenset({"s3:GetObject", "s3:ListBucket", "s3:PutObject"}),
    # the collector only ever puts new objects, under events/ and quarantine/ (infra narrows
    # the resources to those prefixes)
    "lake_append": frozenset({"s3:PutObject"}),
    "kms_lake": frozenset({"kms:Decrypt", "kms:GenerateDataKey"}),
    # the dashboard publication: list, put and delete under site/dashboard/ only (infra narrows
    # the resources to that prefix, of the lake and of the private site bucket when deployed);
    # kms_site: encrypting into the site bucket (its own key, the one CloudFront may decrypt)
    "site_publish": frozenset({"s3:ListBucket", "s3:PutObject", "s3:DeleteObject"}),
    "kms_site": frozenset({"kms:GenerateDataKey"}),
    "secrets": frozenset({"secretsmanager:GetSecretValue"}),
    "aws_bedrock_source": frozenset({"ce:GetCostAndUsage"}),
    # Azure RBAC: Cost Management Reader (infra/modules/azure_reader); in AWS only the web
    # identity token the keyless (federated) path sends Entra
    "azure_openai_source": frozenset({"sts:GetWebIdentityToken"}),
    "gcp_vertex_source": frozenset(),  # GCP IAM: BigQuery viewer + job user (infra/modules/gcp)
    # the native export deliveries: read-only on the export bucket's prefix (infra narrows the
    # resources to it; modules/data_exports)
    "export_read": frozenset({"s3:GetObject", "s3:ListBucket"}),
    "xray": frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords"}),
    "dead_letter": frozenset({"sqs:SendMessage"}),
    "logs": frozenset({"logs:CreateLogStream", "logs:PutLogEvents"}),
    # Service roles (schedules, fan-out state machines), see SERVICE_ROLE_COMPONENTS.
    "invoke": frozenset({"lambda:InvokeFunction"}),
    "start_fanout": frozenset({"states:StartExecution"}),
    "xray_sampling": frozenset({"xray:GetSamplingRules", "xray:GetSamplingTargets"}),
    "log_delivery": frozenset({
        "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
    }),
}

#: Actions whose API has no resource-level scoping.
RESOURCE_STAR_ONLY: frozenset[str] = frozenset(
    {"ce:GetCostAndUsage", "sts:GetWebIdentityToken", "xray:PutTraceSegments",
     "xray:PutTelemetryRecords"}
) | COMPONENT_ACTIONS["xray_sampling"] | COMPONENT_ACTIONS["log_delivery"]

#: What every function's runtime needs: its log stream, X-Ray segments, its dead-letter queue.
RUNTIME_COMPONENTS: tuple[str, ...] = ("logs", "xray", "dead_letter")

#: Components per deployable function (the module name in ``functions/``).
FUNCTION_COMPONENTS: dict[str, tuple[str, ...]] = {
    "collect_events": ("lake_append", "kms_lake", "secrets"),
    "ingest_aws_bedrock": ("lake_write", "kms_lake", "aws_bedrock_source"),
    "ingest_azure_openai": ("lake_write", "kms_lake", "secrets", "azure_openai_source"),
    "ingest_gcp_vertex": ("lake_write", "kms_lake", "secrets", "gcp_vertex_source"),
    "forecast_budgets": ("lake_publish", "kms_lake"),
    "notify": ("lake_write", "kms_lake", "secrets"),
    "meter_stripe": ("lake_write", "kms_lake", "secrets"),
    "detect_anomalies": ("lake_publish", "kms_lake"),
    "compact_events": ("lake_write", "kms_lake"),
    "ingest_export": ("lake_write", "kms_lake", "export_read"),
    # the Azure export containers: read in Azure (Storage Blob Data Reader,
    # infra/modules/azure_reader) with the reader identity or a connection string secret
    "ingest_azure_export": ("lake_write", "kms_lake", "secrets", "azure_openai_source"),
    # Google's FOCUS views: queried in GCP (BigQuery Data Viewer on the view's and the export's
    # datasets, Job User, Read Session User: infra/modules/gcp_reader) with the credentials of
    # sources.gcp_vertex (a key from Secrets Manager, or keyless: the role's own AWS credentials
    # sign the GetCallerIdentity request Google's STS verifies, no AWS permission)
    "ingest_gcp_focus_view": ("lake_write", "kms_lake", "secrets", "gcp_vertex_source"),
    "publish_dashboard": ("lake_read", "kms_lake", "site_publish", "kms_site"),
}

#: Roles that are not functions: a schedule invoking a function, a fan-out state machine
#: (Step Functions Map over shards) and the schedule starting it.
SERVICE_ROLE_COMPONENTS: dict[str, tuple[str, ...]] = {
    "schedule": ("invoke", "dead_letter", "kms_lake"),
    "fanout": ("invoke", "log_delivery", "xray", "xray_sampling", "kms_lake"),
    "fanout_schedule": ("start_fanout", "dead_letter", "kms_lake"),
}


def actions_for(function: str) -> frozenset[str]:
    """Every IAM action the named function needs (its components plus its runtime's)."""
    actions: set[str] = set()
    for component in RUNTIME_COMPONENTS + FUNCTION_COMPONENTS[function]:
        actions |= COMPONENT_ACTIONS[component]
    return frozenset(actions)


def actions_for_role(role: str) -> frozenset[str]:
    """Every IAM action a service role needs (``schedule``, ``fanout``, ``fanout_schedule``).

    >>> sorted(actions_for_role("fanout_schedule"))
    ['kms:Decrypt', 'kms:GenerateDataKey', 'sqs:SendMessage', 'states:StartExecution']
    """
    actions: set[str] = set()
    for component in SERVICE_ROLE_COMPONENTS[role]:
        actions |= COMPONENT_ACTIONS[component]
    return frozenset(actions)
