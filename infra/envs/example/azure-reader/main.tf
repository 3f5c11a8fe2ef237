# Azure side of the deployment, applied with Azure credentials (az login) by whoever administers
# the Azure scope. Outputs go into the configuration's sources.azure_openai section.

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
