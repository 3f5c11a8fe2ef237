variable "display_name" {
  description = "Display name of the app registration that reads Azure costs."
  type        = string
  default     = "cascadeflow-cost-reader"
}

variable "scope" {
  description = "Azure scope the reader may query, e.g. /subscriptions/<id>, a management group or a billing scope; the same value goes into sources.azure_openai.scopes."
  type        = string
}

variable "role_definition_name" {
  description = "Built-in role granted at the scope: Cost Management Reader reads cost data and nothing else."
  type        = string
  default     = "Cost Management Reader"
}
