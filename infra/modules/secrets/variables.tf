variable "name" {
  description = "Name prefix: secrets are created as <name>/<secret>."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key encrypting the secrets."
  type        = string
}

variable "secrets" {
  description = "Secret short name => description. Only the entries are created; values are put with the AWS CLI after apply and never pass through Terraform or its state."
  type        = map(string)
  default = {
    "slack-webhook-url"              = "Slack incoming webhook URL (a bearer secret: https://hooks.slack.com/services/...)"
    "webhook-signing"                = "Standard Webhooks signing secret(s) for outbound webhooks, whsec_...; during rotation a JSON list [current, previous]"
    "stripe-api-key"                 = "Stripe restricted API key with billing meter event write access"
    "azure-client-secret"            = "Client secret of the Azure reader app registration (module azure_reader)"
    "azure-export-connection-string" = "Connection string of the storage account an Azure cost export is written to (native_exports.azure_blob[].connection_string), if the reader identity is not used"
    "gcp-credentials"                = "GCP service account key JSON of the billing reader (module gcp_reader), if workload identity federation is not used"
    "hmac-key"                       = "Key for HMAC-SHA256 pseudonymisation of user ids (config privacy.hmac_key)"
    "collector-secret"               = "Standard Webhooks secret (whsec_<base64 of >= 24 random bytes>, or any string used as its bytes) the SDK HTTP sink signs event batches with and the collector verifies (config sdk.collector_secret)"
  }
}

variable "recovery_window_in_days" {
  description = "Days a deleted secret can still be restored."
  type        = number
  default     = 7
}

variable "rotation_lambda_arn" {
  description = "ARN of a rotation function for secrets that can be rotated automatically; null leaves rotation manual (see docs/deploy.md)."
  type        = string
  default     = null
}

variable "rotation_days" {
  description = "Automatic rotation interval in days when rotation_lambda_arn is set (at most 90)."
  type        = number
  default     = 90
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
