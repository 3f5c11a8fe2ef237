variable "display_name" {
  description = "Display name of the app registration that reads Azure costs."
  type        = string
  default     = "cascadeflow-cost-reader"
}

variable "scope" {
  description = "Azure RBAC scope the reader may query: /subscriptions/<id>, a resource group under it, or a management group (/providers/Microsoft.Management/managementGroups/<id>). Billing scopes (billing accounts, profiles) take no RBAC role assignment: grant those in the Cost Management billing roles instead. The same value goes into sources.azure_openai.scopes."
  type        = string
  validation {
    condition     = can(regex("^/(subscriptions/[^/]+(/resourceGroups/[^/]+)?|providers/Microsoft.Management/managementGroups/[^/]+)$", var.scope))
    error_message = "scope must be /subscriptions/<id>[/resourceGroups/<name>] or /providers/Microsoft.Management/managementGroups/<id>: billing scopes take no RBAC role assignment."
  }
}

variable "role_definition_name" {
  description = "Built-in role granted at the scope: Cost Management Reader reads cost data and nothing else."
  type        = string
  default     = "Cost Management Reader"
  validation {
    condition     = contains(["Cost Management Reader", "Reader"], var.role_definition_name)
    error_message = "role_definition_name must be a read-only role: Cost Management Reader (what the Azure source needs) or Reader."
  }
}

variable "aws_token_issuer" {
  description = "Issuer URL of the AWS account's web identity tokens (aws iam get-outbound-web-identity-federation-info); null: no federated credential (a client secret is used instead)."
  type        = string
  default     = null
}

variable "aws_role_arn" {
  description = "Subject of the federated credential: the AWS ingest function's role ARN (the AWS root's azure_ingest_role_arn output)."
  type        = string
  default     = null
}

variable "aws_export_role_arn" {
  description = "Subject of a second federated credential: the export reader function's role ARN (the AWS root's azure_export_role_arn output); null: none."
  type        = string
  default     = null
}

variable "export_container_id" {
  description = "ARM id of the blob container a Cost Management export writes to (.../storageAccounts/<account>/blobServices/default/containers/<name>): the reader gets Storage Blob Data Reader on it, nothing else of the account; null: no storage grant."
  type        = string
  default     = null
  validation {
    condition     = var.export_container_id == null || can(regex("^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft.Storage/storageAccounts/[^/]+/blobServices/default/containers/[^/]+$", coalesce(var.export_container_id, "-")))
    error_message = "export_container_id must be a blob container's ARM id (.../storageAccounts/<account>/blobServices/default/containers/<name>): the grant is scoped to the container, never the account."
  }
}

variable "token_audience" {
  description = "Audience of the token (sources.azure_openai.federated_audience)."
  type        = string
  default     = "api://AzureADTokenExchange"
}
