variable "name" {
  description = "Name prefix of the alarms and the topic."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key encrypting the alarm topic."
  type        = string
}

variable "functions" {
  description = "Logical name => {function_name, dlq_name} of every deployed function."
  type = map(object({
    function_name = string
    dlq_name      = string
  }))
}

variable "state_machines" {
  description = "Logical name => ARN of every fan-out state machine (alarm on failed executions)."
  type        = map(string)
  default     = {}
}

variable "job_alarms" {
  description = "\"<function>/<metric>\" => {metric, dimensions, description}: alarms on the jobs' own CascadeFlow metrics (dimensions as the runtime emits them: service = the function's logical name, plus source for ingest)."
  type = map(object({
    metric      = string
    dimensions  = map(string)
    description = string
  }))
  default = {}
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the alarm topic (each confirms by mail)."
  type        = list(string)
  default     = []
}

variable "period_seconds" {
  description = "Evaluation period of every alarm."
  type        = number
  default     = 300
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
