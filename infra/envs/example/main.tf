# A complete CascadeFlow Cloud deployment: lake, secrets, catalog, thirteen functions with their
# triggers, fan-out state machines for the sharded jobs, alarms, and (var.data_exports) the AWS
# Data Exports whose deliveries ingest_export reads. See README.md.

data "aws_caller_identity" "current" {}

locals {
  dist     = abspath(startswith(var.dist_dir, "/") ? var.dist_dir : "${path.module}/${var.dist_dir}")
  manifest = jsondecode(file("${local.dist}/manifest.json"))
  store    = "s3://${module.lake.bucket_name}/${trim(var.lake_prefix, "/")}"

  # Every handler in functions/: its artifact (one per dependency set, see `make package`), its
  # trigger, its resources and the components of cascadeflow_cloud.permissions it needs.
  functions = {
    collect_events = {
      description = "Collector: HMAC-verified usage events from the SDK sinks into the lake"
      artifact    = "core"
      trigger     = "url"
      memory      = 256
      timeout     = 10
      components  = ["lake_append", "kms_lake", "secrets"]
      secrets     = ["collector-secret", "hmac-key"]
    }
    ingest_aws_bedrock = {
      description = "Pulls Bedrock cost from Cost Explorer into the lake (fan-out by day)"
      artifact    = "ingest-aws"
      trigger     = "fanout"
      memory      = 1769
      timeout     = 900
      components  = ["lake_write", "kms_lake", "aws_bedrock_source"]
      secrets     = []
    }
    ingest_azure_openai = {
      description = "Pulls Azure OpenAI cost from Cost Management into the lake (fan-out by scope)"
      artifact    = "ingest-azure"
      trigger     = "fanout"
      memory      = 1769
      timeout     = 900
      components  = ["lake_write", "kms_lake", "secrets", "azure_openai_source"]
      secrets     = ["azure-client-secret"]
    }
    ingest_gcp_vertex = {
      description = "Pulls Vertex AI cost from the BigQuery billing export into the lake (fan-out by day)"
      artifact    = "ingest-gcp"
      trigger     = "fanout"
      memory      = 1769
      timeout     = 900
      components  = ["lake_write", "kms_lake", "secrets", "gcp_vertex_source"]
      secrets     = ["gcp-credentials"]
    }
    forecast_budgets = {
      description = "Forecasts every budget scope and writes projections (fan-out by scope hash)"
      artifact    = local.forecast_artifact
      trigger     = "fanout"
      memory      = 3008
      timeout     = 900
      components  = ["lake_publish", "kms_lake"]
      secrets     = []
    }
    detect_anomalies = {
      description = "Finds cost anomalies in the lake and writes findings"
      artifact    = "lake"
      trigger     = "schedule"
      memory      = 1024
      timeout     = 300
      components  = ["lake_publish", "kms_lake"]
      secrets     = []
    }
    notify = {
      description = "Evaluates budget, forecast, anomaly and drift rules and notifies once per crossing (fan-out by scope hash)"
      artifact    = "core"
      trigger     = "fanout"
      memory      = 256
      timeout     = 300
      components  = ["lake_write", "kms_lake", "secrets"]
      secrets     = ["slack-webhook-url", "webhook-signing", "hmac-key"]
    }
    meter_stripe = {
      description = "Reports per-customer metered usage to Stripe billing meters"
      artifact    = "meter"
      trigger     = "schedule"
      memory      = 256
      timeout     = 300
      components  = ["lake_write", "kms_lake", "secrets"]
      secrets     = ["stripe-api-key"]
    }
    compact_events = {
      description = "Merges the day's small event batches into few Parquet files"
      artifact    = "lake"
      trigger     = "schedule"
      memory      = 1769
      timeout     = 900
      components  = ["lake_write", "kms_lake"]
      secrets     = []
    }
    ingest_export = {
      description = "Ingests each AWS Data Exports delivery (CUR 2.0, FOCUS 1.2) when its manifest is written (see the data_exports variable)"
      artifact    = "ingest-export"
      trigger     = "s3"
      memory      = 1769
      timeout     = 900
      components  = ["lake_write", "kms_lake", "export_read"]
      secrets     = []
    }
    ingest_azure_export = {
      description = "Ingests the Azure Cost Management exports of native_exports.azure_blob from their blob containers (daily)"
      artifact    = "ingest-azure"
      trigger     = "schedule"
      memory      = 1769
      timeout     = 900
      components  = ["lake_write", "kms_lake", "secrets", "azure_openai_source"]
      secrets     = ["azure-client-secret", "azure-export-connection-string"]
    }
    ingest_gcp_focus_view = {
      description = "Ingests the recent months of the FOCUS BigQuery views of native_exports.bigquery_focus with the sources.gcp_vertex credentials (daily)"
      artifact    = "ingest-gcp"
      trigger     = "schedule"
      memory      = 1769
      timeout     = 900
      components  = ["lake_write", "kms_lake", "secrets", "gcp_vertex_source"]
      secrets     = ["gcp-credentials"]
    }
    publish_dashboard = {
      description = "Builds the static cost dashboard from the lake and publishes it under site/dashboard/ (into the private site bucket when dashboard_site is enabled)"
      artifact    = "dashboard"
      trigger     = "schedule"
      memory      = 1769
      timeout     = 300
      components  = ["lake_read", "kms_lake", "site_publish", "kms_site"]
      secrets     = []
    }
  }

  zip_artifacts = toset([for fn, spec in local.functions : spec.artifact if spec.artifact != "forecast"])
  fanout        = { for fn, spec in local.functions : fn => spec if spec.trigger == "fanout" }

  # The forecast function: the lake zip with the default engine (no Docker); the statsmodels
  # engine (forecast_engine = "statsmodels") runs from the opt-in container image "forecast".
  forecast_artifact    = var.forecast_engine == "statsmodels" ? "forecast" : "lake"
  forecast_image_build = var.forecast_engine == "statsmodels" && var.forecast_image_uri == null
  forecast_tree        = "${local.dist}/build/forecast"
  forecast_tag         = substr(sha256("${try(local.manifest.artifacts.forecast.tree_sha256, "")}${filesha256(var.config_file)}"), 0, 32)
  forecast_image       = var.forecast_image_uri != null ? var.forecast_image_uri : "${module.artifacts.image_repository_url}:${local.forecast_tag}"
  configured_engine    = try(yamldecode(file(var.config_file)).forecast.engine, "fast")
  common_env = {
    CASCADEFLOW_STORE             = local.store
    CASCADEFLOW_CONFIG            = "/opt/cascadeflow.yaml"
    POWERTOOLS_SERVICE_NAME       = var.name
    POWERTOOLS_PARAMETERS_MAX_AGE = "300"
    POWERTOOLS_LOG_LEVEL          = "INFO"
  }
}

module "lake" {
  source      = "../../modules/lake"
  name        = var.name
  lake_prefix = var.lake_prefix
}

module "secrets" {
  source      = "../../modules/secrets"
  name        = var.name
  kms_key_arn = module.lake.kms_key_arn
}

module "catalog" {
  source      = "../../modules/catalog"
  name        = var.name
  bucket_name = module.lake.bucket_name
  lake_prefix = var.lake_prefix
  kms_key_arn = module.lake.kms_key_arn
}

module "artifacts" {
  source                  = "../../modules/artifacts"
  name                    = var.name
  kms_key_arn             = module.lake.kms_key_arn
  log_bucket_name         = module.lake.log_bucket_name
  artifacts               = { for a in local.zip_artifacts : a => "${local.dist}/${a}.zip" }
  create_image_repository = local.forecast_image_build
}

# The configuration ships as a layer: /opt/cascadeflow.yaml in every zip function. Changing it
# needs only `terraform apply`, not a new package.
data "archive_file" "config" {
  type        = "zip"
  output_path = "${path.module}/.build/config-layer.zip"
  source {
    content  = file(var.config_file)
    filename = "cascadeflow.yaml"
  }
}

resource "aws_lambda_layer_version" "config" {
  layer_name          = "${var.name}-config"
  description         = "cascadeflow.yaml (secret references only)"
  filename            = data.archive_file.config.output_path
  source_code_hash    = data.archive_file.config.output_base64sha256
  compatible_runtimes = ["python3.11"]

  lifecycle {
    precondition {
      condition     = local.configured_engine == var.forecast_engine
      error_message = "forecast.engine in the configuration file must equal var.forecast_engine (the statsmodels engine needs the opt-in image: set forecast_engine = \"statsmodels\")."
    }
  }
}

# Opt-in (forecast_engine = "statsmodels"): that engine's stack (statsmodels + scipy + pandas +
# pyarrow) exceeds the 250 MB zip limit, so it runs as a container image built from the tree
# `python infra/package.py forecast` assembles. The default deployment builds no image.
resource "terraform_data" "forecast_image" {
  count            = local.forecast_image_build ? 1 : 0
  input            = local.forecast_image
  triggers_replace = [local.forecast_image]

  provisioner "local-exec" {
    working_dir = local.dist
    environment = {
      IMAGE    = local.forecast_image
      REGISTRY = split("/", local.forecast_image)[0]
      CONFIG   = abspath(var.config_file)
      REGION   = var.region
      TREE     = local.forecast_tree
    }
    command = "${abspath(path.module)}/../../images/forecast/build-and-push.sh"
  }
}

module "functions" {
  source   = "../../modules/function"
  for_each = local.functions

  function_name        = "${var.name}-${replace(each.key, "_", "-")}"
  description          = each.value.description
  handler              = "functions.${each.key}.handler"
  image_uri            = each.value.artifact == "forecast" ? try(terraform_data.forecast_image[0].output, var.forecast_image_uri) : null
  s3_bucket            = each.value.artifact == "forecast" ? null : module.artifacts.bucket_name
  s3_key               = each.value.artifact == "forecast" ? null : lookup(module.artifacts.object_keys, each.value.artifact, null)
  s3_object_version    = each.value.artifact == "forecast" ? null : lookup(module.artifacts.object_versions, each.value.artifact, null)
  source_code_hash     = each.value.artifact == "forecast" ? null : filebase64sha256("${local.dist}/${each.value.artifact}.zip")
  layers               = [aws_lambda_layer_version.config.arn]
  memory_size          = each.value.memory
  timeout              = each.value.timeout
  reserved_concurrency = local.reserved_concurrency[each.key]
  environment          = local.common_env
  kms_key_arn          = module.lake.kms_key_arn
  log_retention_days   = var.log_retention_days
  policy_statements    = local.policy_statements[each.key]

  trigger             = each.value.trigger
  schedule_expression = each.value.trigger == "schedule" ? local.schedules[each.key] : null
  schedule_timezone   = var.schedule_timezone
  schedule_input      = each.key == "publish_dashboard" && var.dashboard_site.enabled ? jsonencode({ site_store = "s3://${module.dashboard_site[0].bucket_name}" }) : "{}"
  url_auth_type       = var.collector_auth_type
  url_invoker_arns    = var.collector_invoker_arns
}

module "fanout" {
  source   = "../../modules/fanout"
  for_each = local.fanout

  name                = "${var.name}-${replace(each.key, "_", "-")}"
  function_arn        = module.functions[each.key].function_arn
  dlq_arn             = module.functions[each.key].dlq_arn
  kms_key_arn         = module.lake.kms_key_arn
  schedule_expression = local.schedules[each.key]
  schedule_timezone   = var.schedule_timezone
  max_concurrency     = min(var.fanout_max_concurrency, local.reserved_concurrency[each.key])
  log_retention_days  = var.log_retention_days
}

# AWS Data Exports (CUR 2.0 and FOCUS 1.2) into their own bucket; each manifest write invokes
# ingest_export (docs/exports.md). Off by default.
module "data_exports" {
  source = "../../modules/data_exports"
  count  = var.data_exports.enabled ? 1 : 0

  name             = var.name
  bucket_name      = local.exports_bucket
  prefix           = var.data_exports.prefix
  bucket_region    = var.region
  time_granularity = var.data_exports.time_granularity
  include_focus    = var.data_exports.include_focus
  log_bucket_name  = module.lake.log_bucket_name
  function_name    = module.functions["ingest_export"].function_name
  function_arn     = module.functions["ingest_export"].function_arn
  tags             = var.tags
}

# The private dashboard site: CloudFront (origin access control) in front of a bucket of its
# own; publish_dashboard writes there instead of the lake's site/dashboard/. Off by default.
module "dashboard_site" {
  source = "../../modules/dashboard_site"
  count  = var.dashboard_site.enabled ? 1 : 0

  name                = var.name
  log_bucket_name     = module.lake.log_bucket_name
  price_class         = var.dashboard_site.price_class
  web_acl_id          = var.dashboard_site.web_acl_id
  log_bucket_domain   = var.dashboard_site.log_bucket_domain
  acm_certificate_arn = var.dashboard_site.acm_certificate_arn
  aliases             = var.dashboard_site.aliases
  tags                = var.tags
}

module "alarms" {
  source       = "../../modules/alarms"
  name         = var.name
  kms_key_arn  = module.lake.kms_key_arn
  alarm_emails = var.alarm_emails
  functions = {
    for fn, m in module.functions : fn => { function_name = m.function_name, dlq_name = m.dlq_name }
  }
  state_machines = { for fn, m in module.fanout : fn => m.state_machine_arn }
  job_alarms = merge(
    { for fn in ["notify", "meter_stripe"] : "${fn}/PendingDeadLetters" => {
      metric      = "PendingDeadLetters"
      dimensions  = { service = fn }
      description = "${fn}: items are dead-lettered in the lake (deadletter/) and not delivered"
    } if contains(keys(local.functions), fn) },
    { for fn in keys(local.functions) : "${fn}/Quarantined" => {
      metric      = "Quarantined"
      dimensions  = startswith(fn, "ingest_") ? { service = fn, source = trimprefix(fn, "ingest_") } : { service = fn }
      description = "${fn}: input was quarantined (quarantine/ in the lake says why)"
    } if fn == "collect_events" || startswith(fn, "ingest_") },
  )
}
