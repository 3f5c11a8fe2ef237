variable "function_name" {
  description = "Name of the Lambda function (also names its role, log group, queue and schedule)."
  type        = string
}

variable "description" {
  description = "Human description of what the function does."
  type        = string
  default     = ""
}

variable "handler" {
  description = "Handler in module.function form, e.g. functions.notify.handler (zip functions only)."
  type        = string
}

variable "runtime" {
  description = "Lambda runtime; the artifacts are built for CPython 3.11 on x86_64."
  type        = string
  default     = "python3.11"
}

variable "architecture" {
  description = "Instruction set; must match the wheels in the artifact (manylinux2014_x86_64)."
  type        = string
  default     = "x86_64"
}

variable "s3_bucket" {
  description = "Bucket holding the zip artifact (ignored when image_uri is set)."
  type        = string
  default     = null
}

variable "s3_key" {
  description = "Key of the zip artifact in s3_bucket."
  type        = string
  default     = null
}

variable "s3_object_version" {
  description = "Version id of the zip artifact object."
  type        = string
  default     = null
}

variable "source_code_hash" {
  description = "filebase64sha256 of the local zip, so a rebuilt artifact redeploys the function."
  type        = string
  default     = null
}

variable "image_uri" {
  description = "ECR image URI for a container-image function (package_type Image); null deploys the zip."
  type        = string
  default     = null
}

variable "layers" {
  description = "Layer version ARNs (the configuration layer that provides /opt/cascadeflow.yaml); ignored for images."
  type        = list(string)
  default     = []
}

variable "memory_size" {
  description = "Memory in MB (CPU scales with it)."
  type        = number
  default     = 512
}

variable "timeout" {
  description = "Timeout in seconds (at most 900)."
  type        = number
  default     = 300
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions: caps cost and protects the account's pool."
  type        = number
  default     = 5
}

variable "environment" {
  description = "Environment variables (no secrets: secrets are resolved at run time from Secrets Manager by reference)."
  type        = map(string)
  default     = {}
}

variable "kms_key_arn" {
  description = "KMS key encrypting the environment, the log group and the dead-letter queue."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the function's log group in days."
  type        = number
  default     = 365
}

variable "policy_statements" {
  description = "The function's IAM grants beyond its runtime (logs, tracing, dead-letter queue): one statement per component with its actions and resources (see cascadeflow_cloud.permissions)."
  type = list(object({
    sid       = string
    actions   = list(string)
    resources = list(string)
  }))
  default = []
}

variable "trigger" {
  description = "How the function is invoked: schedule (EventBridge Scheduler), url (function URL, the collector), fanout (a Step Functions state machine of the fanout module) or s3 (a bucket notification, declared with its bucket: modules/data_exports)."
  type        = string
  validation {
    condition     = contains(["schedule", "url", "fanout", "s3"], var.trigger)
    error_message = "trigger must be schedule, url, fanout or s3."
  }
}

variable "schedule_expression" {
  description = "Scheduler expression when trigger = schedule, e.g. cron(15 6 * * ? *) or rate(1 hour)."
  type        = string
  default     = null
}

variable "schedule_timezone" {
  description = "Time zone the schedule expression is evaluated in."
  type        = string
  default     = "UTC"
}

variable "schedule_input" {
  description = "JSON event passed to the function by the schedule."
  type        = string
  default     = "{}"
}

variable "schedule_max_retries" {
  description = "Retries of a failed scheduled invocation before it goes to the dead-letter queue."
  type        = number
  default     = 3
}

variable "schedule_max_event_age_seconds" {
  description = "How long the scheduler keeps retrying one invocation."
  type        = number
  default     = 3600
}

variable "url_auth_type" {
  description = "Function URL auth when trigger = url: AWS_IAM (SigV4-signed callers, recommended) or NONE (public URL; the collector then relies on its HMAC signature check alone)."
  type        = string
  default     = "AWS_IAM"
  validation {
    condition     = contains(["AWS_IAM", "NONE"], var.url_auth_type)
    error_message = "url_auth_type must be AWS_IAM or NONE."
  }
}

variable "url_invoker_arns" {
  description = "IAM principals (role or account ARNs) allowed to call the function URL when url_auth_type = AWS_IAM."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
