variable "name" {
  description = "Deployment name: prefixes every resource (lower case letters, digits, dashes)."
  type        = string
  default     = "cascadeflow"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name))
    error_message = "name must be 3-31 characters of lower case letters, digits and dashes, starting with a letter."
  }
}

variable "region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "us-east-1"
}

variable "dist_dir" {
  description = "Folder with the artifacts and manifest.json built by `make package` (relative to this folder or absolute)."
  type        = string
  default     = "../../../dist"
}

variable "config_file" {
  description = "The cascadeflow.yaml deployed to every function as /opt/cascadeflow.yaml (a layer); it holds secret references only, never values."
  type        = string
  default     = "cascadeflow.yaml"
}

variable "lake_prefix" {
  description = "Key prefix of the lake in the bucket; functions get CASCADEFLOW_STORE=s3://<bucket>/<prefix>."
  type        = string
  default     = "cascadeflow"
}

variable "log_retention_days" {
  description = "Retention of every log group in days (checkov asks for at least 365)."
  type        = number
  default     = 365
}

variable "alarm_emails" {
  description = "E-mail addresses notified by the alarms (errors, throttles, dead letters, failed fan-outs)."
  type        = list(string)
  default     = []
}

variable "collector_auth_type" {
  description = "Auth of the collector's function URL: AWS_IAM (callers sign with SigV4; the HMAC check still applies) or NONE (public URL; for producers outside AWS, every request must carry a valid HMAC signature)."
  type        = string
  default     = "AWS_IAM"
}

variable "collector_invoker_arns" {
  description = "IAM roles or accounts (ARNs) whose applications send usage events to the collector URL (AWS_IAM auth)."
  type        = list(string)
  default     = []
}

variable "schedules" {
  description = "Scheduler expression per scheduled function or fan-out (UTC unless schedule_timezone says otherwise); entries given here replace those of local.default_schedules one by one, so overriding one keeps the others."
  type        = map(string)
  default     = {}
  validation {
    condition     = alltrue([for k in keys(var.schedules) : contains(["ingest_aws_bedrock", "ingest_azure_openai", "ingest_gcp_vertex", "ingest_azure_export", "ingest_gcp_focus_view", "forecast_budgets", "detect_anomalies", "notify", "meter_stripe", "compact_events", "publish_dashboard"], k)])
    error_message = "schedules: keys are scheduled functions (ingest_* but ingest_export, forecast_budgets, detect_anomalies, notify, meter_stripe, compact_events, publish_dashboard)."
  }
}

variable "schedule_timezone" {
  description = "Time zone of every schedule expression."
  type        = string
  default     = "UTC"
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions per function (caps cost; fan-out concurrency stays at or below it); entries given here replace those of local.default_reserved_concurrency one by one. Their sum (57 by default) must leave the account's unreserved minimum of 100: the account's concurrency quota must be at least the sum + 100."
  type        = map(number)
  default     = {}
  validation {
    condition     = alltrue([for k, v in var.reserved_concurrency : v >= 1 && contains(["collect_events", "ingest_aws_bedrock", "ingest_azure_openai", "ingest_gcp_vertex", "forecast_budgets", "detect_anomalies", "notify", "meter_stripe", "compact_events", "ingest_export", "ingest_azure_export", "ingest_gcp_focus_view", "publish_dashboard"], k)])
    error_message = "reserved_concurrency: keys are function names, values at least 1."
  }
}

locals {
  default_schedules = {
    ingest_aws_bedrock    = "cron(15 */6 * * ? *)"
    ingest_azure_openai   = "cron(20 */6 * * ? *)"
    ingest_gcp_vertex     = "cron(25 */6 * * ? *)"
    ingest_azure_export   = "cron(40 5 * * ? *)" # daily: Cost Management refreshes an export once a day
    ingest_gcp_focus_view = "cron(50 5 * * ? *)" # daily: the billing export behind the view lags hours
    forecast_budgets      = "cron(45 6 * * ? *)"
    detect_anomalies      = "cron(0 7 * * ? *)"
    notify                = "rate(1 hour)"
    meter_stripe          = "cron(30 * * * ? *)"
    compact_events        = "cron(10 * * * ? *)"
    publish_dashboard     = "cron(30 7 * * ? *)"
  }
  default_reserved_concurrency = {
    collect_events        = 20
    ingest_aws_bedrock    = 5
    ingest_azure_openai   = 5
    ingest_gcp_vertex     = 5
    forecast_budgets      = 10
    detect_anomalies      = 2
    notify                = 2
    meter_stripe          = 1
    compact_events        = 2
    ingest_export         = 2
    ingest_azure_export   = 1
    ingest_gcp_focus_view = 1
    publish_dashboard     = 1
  }
  schedules            = merge(local.default_schedules, var.schedules)
  reserved_concurrency = merge(local.default_reserved_concurrency, var.reserved_concurrency)
}

variable "fanout_max_concurrency" {
  description = "Shards a fan-out runs at the same time."
  type        = number
  default     = 5
}

variable "forecast_engine" {
  description = "Forecast engine, equal to forecast.engine of the configuration file: fast (default; the forecast function deploys from the lake zip, no Docker) or statsmodels (the opt-in container image: `python infra/package.py forecast`, then Docker during apply unless forecast_image_uri is given)."
  type        = string
  default     = "fast"
  validation {
    condition     = contains(["fast", "statsmodels"], var.forecast_engine)
    error_message = "forecast_engine must be fast or statsmodels."
  }
}

variable "forecast_image_uri" {
  description = "With forecast_engine = statsmodels: a pre-built forecast image (ECR URI with tag); null builds and pushes dist/build/forecast with docker during apply (that stack is larger than the 250 MB zip limit). Ignored with the fast engine."
  type        = string
  default     = null
}

variable "extra_secret_names" {
  description = "Function => additional Secrets Manager names it may read (for secret references in the configuration beyond the standard entries)."
  type        = map(list(string))
  default     = {}
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "data_exports" {
  description = "AWS Data Exports (CUR 2.0 and, with include_focus, FOCUS 1.2; Parquet) into a bucket of their own (<name>-exports-<account>), each delivery ingested by ingest_export when its manifest is written (modules/data_exports). Off by default; Data Exports runs in us-east-1 only, so enable it in a us-east-1 deployment."
  type = object({
    enabled          = optional(bool, false)
    include_focus    = optional(bool, true)
    time_granularity = optional(string, "HOURLY")
    prefix           = optional(string, "exports")
  })
  default = {}
}

variable "dashboard_site" {
  description = "The private dashboard site (modules/dashboard_site): a bucket of its own, readable only by a CloudFront distribution with origin access control, serving what publish_dashboard writes under site/dashboard/. Off by default (the function then publishes into the lake's site/dashboard/ prefix). web_acl_id: a WAFv2 web ACL (us-east-1, CLOUDFRONT scope) to restrict who may open it; log_bucket_domain: a bucket (ACLs enabled) for CloudFront standard logs; acm_certificate_arn and aliases: a domain of your own."
  type = object({
    enabled             = optional(bool, false)
    price_class         = optional(string, "PriceClass_100")
    web_acl_id          = optional(string)
    log_bucket_domain   = optional(string)
    acm_certificate_arn = optional(string)
    aliases             = optional(list(string), [])
  })
  default = {}
}
