# IAM from the code. These maps mirror cascadeflow_cloud.permissions.COMPONENT_ACTIONS and
# FUNCTION_COMPONENTS; tests/infra checks they are equal, so a function gets exactly the actions
# its code declares. Runtime grants (logs, xray, dead_letter) live in modules/function.

locals {
  component_actions = {
    lake_read          = ["s3:GetObject", "s3:ListBucket"]
    lake_write         = ["s3:DeleteObject", "s3:GetObject", "s3:ListBucket", "s3:PutObject"]
    lake_publish       = ["s3:GetObject", "s3:ListBucket", "s3:PutObject"]
    lake_append        = ["s3:PutObject"]
    kms_lake           = ["kms:Decrypt", "kms:GenerateDataKey"]
    secrets            = ["secretsmanager:GetSecretValue"]
    aws_bedrock_source = ["ce:GetCostAndUsage"]
    # Azure: the web identity token of the keyless path (Entra exchanges it; the Cost
    # Management role is granted in Azure by modules/azure_reader). GCP: granted in GCP.
    azure_openai_source = ["sts:GetWebIdentityToken"]
    gcp_vertex_source   = []
    # read-only on the Data Exports bucket's prefix (var.data_exports)
    export_read = ["s3:GetObject", "s3:ListBucket"]
    # the dashboard: list, put, delete under site/dashboard/ (var.dashboard_site)
    site_publish = ["s3:DeleteObject", "s3:ListBucket", "s3:PutObject"]
    kms_site     = ["kms:GenerateDataKey"]
  }

  # Resources per component; "*" only where the API has no resource-level scoping (Cost
  # Explorer). Secrets are narrowed per function below; the collector may only put objects
  # under events/ and quarantine/.
  lake_objects = "${module.lake.bucket_arn}/${trim(var.lake_prefix, "/")}/*"
  lake_appends = [for p in ["events", "quarantine"] : "${module.lake.bucket_arn}/${trim(var.lake_prefix, "/")}/${p}/*"]
  component_resources = {
    lake_read          = [module.lake.bucket_arn, local.lake_objects]
    lake_write         = [module.lake.bucket_arn, local.lake_objects]
    lake_publish       = [module.lake.bucket_arn, local.lake_objects]
    lake_append        = local.lake_appends
    kms_lake           = [module.lake.kms_key_arn]
    aws_bedrock_source = ["*"]
    # GetWebIdentityToken has no resource-level scoping (the token is for the caller's role)
    azure_openai_source = ["*"]
    export_read         = ["arn:aws:s3:::${local.exports_bucket}", "arn:aws:s3:::${local.exports_bucket}/${trim(var.data_exports.prefix, "/")}/*"]
    # the lake's site/dashboard/ prefix, and the private site bucket's when it is deployed
    site_publish = local.site_publish
    kms_site     = var.dashboard_site.enabled ? [module.dashboard_site[0].kms_key_arn] : []
  }
  site_publish = concat(
    [module.lake.bucket_arn, "${module.lake.bucket_arn}/${trim(var.lake_prefix, "/")}/site/dashboard/*"],
    var.dashboard_site.enabled ? [module.dashboard_site[0].bucket_arn, "${module.dashboard_site[0].bucket_arn}/site/dashboard/*"] : [],
  )
  # The Data Exports bucket (modules/data_exports); without var.data_exports the function gets
  # no export_read statement at all.
  exports_bucket = "${var.name}-exports-${data.aws_caller_identity.current.account_id}"

  secret_arn_pattern = "arn:aws:secretsmanager:${var.region}:${data.aws_caller_identity.current.account_id}:secret:%s-??????"

  policy_statements = {
    for fn, spec in local.functions : fn => [
      for component in spec.components : {
        sid     = component
        actions = local.component_actions[component]
        resources = component == "secrets" ? concat(
          [for secret in spec.secrets : module.secrets.arns[secret]],
          [for extra in lookup(var.extra_secret_names, fn, []) : format(local.secret_arn_pattern, extra)],
        ) : lookup(local.component_resources, component, [])
      } if length(local.component_actions[component]) > 0 && (component != "export_read" || var.data_exports.enabled) && (component != "kms_site" || var.dashboard_site.enabled)
    ]
  }
}
