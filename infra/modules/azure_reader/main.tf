# The identity the Azure ingest functions use: an app registration and its service principal with
# Cost Management Reader at one scope and, with export_container_id, Storage Blob Data Reader on
# the one blob container a Cost Management export writes to (ingest_azure_export reads it). Keyless (recommended): a federated identity credential
# trusts the AWS ingest function's role, whose STS web identity token (IAM outbound identity
# federation) Entra exchanges for an access token. No client secret is created here (it would
# land in the Terraform state); if you use one instead, create it with
# `az ad app credential reset` and put it straight into Secrets Manager (docs/deploy.md).

data "azuread_client_config" "current" {}

resource "azuread_application" "reader" {
  display_name = var.display_name
  owners       = [data.azuread_client_config.current.object_id]
}

resource "azuread_service_principal" "reader" {
  client_id = azuread_application.reader.client_id
  owners    = [data.azuread_client_config.current.object_id]
}

resource "azurerm_role_assignment" "cost_reader" {
  scope                = var.scope
  role_definition_name = var.role_definition_name
  principal_id         = azuread_service_principal.reader.object_id
  principal_type       = "ServicePrincipal"
}

# Read and list the export's blobs: that container only, nothing else of the storage account.
resource "azurerm_role_assignment" "export_reader" {
  count                = var.export_container_id == null ? 0 : 1
  scope                = var.export_container_id
  role_definition_name = "Storage Blob Data Reader"
  principal_id         = azuread_service_principal.reader.object_id
  principal_type       = "ServicePrincipal"
}

# Keyless: one federated credential per AWS role Entra may exchange STS web identity tokens of,
# each trusting exactly that role ARN: the Query API ingest (aws_role_arn) and the scheduled
# export reader (aws_export_role_arn), which has a role of its own.
locals {
  federated_roles = {
    for name, role in {
      "aws-lambda-ingest"        = { arn = var.aws_role_arn, what = "Azure ingest function" }
      "aws-lambda-ingest-export" = { arn = var.aws_export_role_arn, what = "Azure export reader function" }
    } : name => role if var.aws_token_issuer != null && role.arn != null
  }
}

resource "azuread_application_federated_identity_credential" "aws_role" {
  #checkov:skip=CKV_AZURE_249:GitHub Actions OIDC check (repository subject patterns); each credential trusts the AWS account's STS token issuer for one exact subject, an ingest role ARN.
  for_each       = local.federated_roles
  application_id = azuread_application.reader.id
  display_name   = each.key
  description    = "The CascadeFlow ${each.value.what}'s AWS role (STS web identity token)"
  audiences      = [var.token_audience]
  issuer         = var.aws_token_issuer
  subject        = each.value.arn
}

moved {
  from = azuread_application_federated_identity_credential.aws_role[0]
  to   = azuread_application_federated_identity_credential.aws_role["aws-lambda-ingest"]
}
