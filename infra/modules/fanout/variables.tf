variable "name" {
  description = "Name of the state machine (and of its schedule, role and log group)."
  type        = string
}

variable "function_arn" {
  description = "ARN of the function that plans the shards and runs each one."
  type        = string
}

variable "dlq_arn" {
  description = "Dead-letter queue of the function; the schedule sends start requests it could not deliver there."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key encrypting execution data, the log group and the schedule."
  type        = string
}

variable "schedule_expression" {
  description = "Scheduler expression that starts one execution, e.g. cron(15 6 * * ? *)."
  type        = string
}

variable "schedule_timezone" {
  description = "Time zone the schedule expression is evaluated in."
  type        = string
  default     = "UTC"
}

variable "schedule_input" {
  description = "JSON input of each execution (passed to the plan step as input)."
  type        = string
  default     = "{}"
}

variable "max_concurrency" {
  description = "Shards that run at the same time (keep at or below the function's reserved concurrency)."
  type        = number
  default     = 5
}

variable "log_retention_days" {
  description = "Retention of the execution log group in days."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
