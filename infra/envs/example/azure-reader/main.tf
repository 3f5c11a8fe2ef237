# Azure side of the deployment, applied with Azure credentials (az login) by whoever administers
# the Azure scope. Outputs go into the configuration's sources.azure_openai section. With
# cost_export.enabled also a Cost Management export of the subscription's cost details (CSV,
# daily, month to date) into a private blob container you keep (its account's network rules,
# keys and read logging stay yours), and Storage Blob Data Reader on that container only for the
# same reader identity (docs/exports.md).

terraform {
  required_version = ">= 1.6"
  required_providers {
    azuread = {
      source  = "hashicorp/azuread"
      version = ">= 3.0, < 4.0"
    }
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 4.0, < 5.0"
    }
  }
}

provider "azurerm" {
  features {}
  subscription_id = var.subscription_id
}

provider "azuread" {}

variable "subscription_id" {
  description = "Subscription the azurerm provider works in (usually the one being read)."
  type        = string
}

variable "scope" {
  description = "Scope to read costs at, e.g. /subscriptions/<id>; also listed in sources.azure_openai.scopes."
  type        = string
}

variable "display_name" {
  description = "Display name of the reader app registration."
  type        = string
  default     = "cascadeflow-cost-reader"
}

variable "aws_token_issuer" {
  description = "Issuer URL of the AWS account's web identity tokens (aws iam get-outbound-web-identity-federation-info); null: no keyless federation."
  type        = string
  default     = null
}

variable "aws_role_arn" {
  description = "The AWS root's azure_ingest_role_arn output (subject of the federated credential)."
  type        = string
  default     = null
}

variable "cost_export" {
  description = "Cost Management export of the subscription's cost details into an existing private blob container: enabled, container_id (its ARM id, .../storageAccounts/<account>/blobServices/default/containers/<name>), root_folder, type (ActualCost or AmortizedCost), start_date / end_date (RFC 3339, the export's recurrence period; start today or later)."
  type = object({
    enabled      = optional(bool, false)
    container_id = optional(string)
    root_folder  = optional(string, "cascadeflow")
    type         = optional(string, "AmortizedCost")
    start_date   = optional(string)
    end_date     = optional(string, "2035-12-31T00:00:00Z")
  })
  default = {}
  validation {
    condition     = !var.cost_export.enabled || (can(regex("/storageAccounts/[^/]+/blobServices/default/containers/[^/]+$", coalesce(var.cost_export.container_id, "-"))) && var.cost_export.start_date != null)
    error_message = "cost_export: enabled needs container_id (a blob container's ARM id) and start_date."
  }
  validation {
    condition     = contains(["ActualCost", "AmortizedCost"], var.cost_export.type)
    error_message = "cost_export.type must be ActualCost or AmortizedCost (the cost details the importer reads)."
  }
}

module "reader" {
  source           = "../../../modules/azure_reader"
  scope            = var.scope
  display_name     = var.display_name
  aws_token_issuer = var.aws_token_issuer
  aws_role_arn     = var.aws_role_arn
}

output "tenant_id" {
  description = "sources.azure_openai.tenant_id"
  value       = module.reader.tenant_id
}

output "client_id" {
  description = "sources.azure_openai.client_id"
  value       = module.reader.client_id
}

# ---------------------------------------------------------------- the cost export (optional)
locals {
  export_on = var.cost_export.enabled ? 1 : 0
  # .../storageAccounts/<account>/blobServices/default/containers/<container>
  export_parts = var.cost_export.enabled ? split("/", var.cost_export.container_id) : []
}

resource "azurerm_subscription_cost_management_export" "cost_details" {
  count                        = local.export_on
  name                         = "cascadeflow-${lower(var.cost_export.type)}"
  subscription_id              = "/subscriptions/${var.subscription_id}"
  recurrence_type              = "Daily"
  recurrence_period_start_date = var.cost_export.start_date
  recurrence_period_end_date   = var.cost_export.end_date
  file_format                  = "Csv"
  export_data_storage_location {
    container_id     = var.cost_export.container_id
    root_folder_path = var.cost_export.root_folder
  }
  export_data_options {
    type       = var.cost_export.type
    time_frame = "MonthToDate"
  }
}

# The reader reads the exported blobs of that container, nothing else of the account.
data "azuread_service_principal" "reader" {
  count     = local.export_on
  client_id = module.reader.client_id
}

resource "azurerm_role_assignment" "export_reader" {
  count                = local.export_on
  scope                = var.cost_export.container_id
  role_definition_name = "Storage Blob Data Reader"
  principal_id         = data.azuread_service_principal.reader[0].object_id
  principal_type       = "ServicePrincipal"
}

output "export_container_url" {
  description = "native_exports.azure_blob.container_url (null without cost_export.enabled)."
  value       = var.cost_export.enabled ? "https://${local.export_parts[length(local.export_parts) - 5]}.blob.core.windows.net/${local.export_parts[length(local.export_parts) - 1]}" : null
}

output "export_prefix" {
  description = "native_exports.azure_blob.prefix: the export's folder in the container."
  value       = var.cost_export.enabled ? "${trim(var.cost_export.root_folder, "/")}/" : null
}
