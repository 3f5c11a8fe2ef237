# Azure side of the deployment, applied with Azure credentials (az login) by whoever administers
# the Azure scope. Outputs go into the configuration's sources.azure_openai section. With
# cost_export.enabled also a Cost Management export of the subscription's cost details (CSV,
# daily, month to date) into a private blob container you keep (its account's network rules,
# keys and read logging stay yours), and Storage Blob Data Reader on that container only for the
# same reader identity (docs/exports.md), which the scheduled ingest_azure_export function reads
# with (aws_export_role_arn: its own federated credential). Or, with export_container_id, only
# the read grant on the container of an export made elsewhere (a FocusCost export).

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

variable "aws_export_role_arn" {
  description = "The AWS root's azure_export_role_arn output (subject of the export reader's federated credential); null: none."
  type        = string
  default     = null
}

variable "export_container_id" {
  description = "Without cost_export.enabled: the ARM id of the container an export made elsewhere writes to (a FocusCost export from the portal, say: azurerm cannot create FocusCost exports yet), for the reader's Storage Blob Data Reader grant; null: none."
  type        = string
  default     = null
}

module "reader" {
  source              = "../../../modules/azure_reader"
  scope               = var.scope
  display_name        = var.display_name
  aws_token_issuer    = var.aws_token_issuer
  aws_role_arn        = var.aws_role_arn
  aws_export_role_arn = var.aws_export_role_arn
  export_container_id = local.reader_container
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
  reader_container = var.cost_export.enabled ? var.cost_export.container_id : var.export_container_id
  export_parts     = local.reader_container != null ? split("/", local.reader_container) : []
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

# Storage Blob Data Reader on that container only: modules/azure_reader (export_container_id).
moved {
  from = azurerm_role_assignment.export_reader[0]
  to   = module.reader.azurerm_role_assignment.export_reader[0]
}

output "export_container_url" {
  description = "native_exports.azure_blob[].container_url (null without a container)."
  value       = local.reader_container != null ? "https://${local.export_parts[length(local.export_parts) - 5]}.blob.core.windows.net/${local.export_parts[length(local.export_parts) - 1]}" : null
}

output "export_prefix" {
  description = "native_exports.azure_blob[].prefix: the export's folder in the container (cost_export.enabled; else the folder of the export made elsewhere)."
  value       = var.cost_export.enabled ? "${trim(var.cost_export.root_folder, "/")}/cascadeflow-${lower(var.cost_export.type)}/" : null
}
