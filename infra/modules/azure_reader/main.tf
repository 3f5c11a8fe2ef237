# The identity the Azure ingest function uses: an app registration and its service principal with
# Cost Management Reader at one scope. Keyless (recommended): a federated identity credential
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

resource "azuread_application_federated_identity_credential" "aws_role" {
  #checkov:skip=CKV_AZURE_249:GitHub Actions OIDC check (repository subject patterns); this credential trusts the AWS account's STS token issuer for one exact subject, the ingest role ARN.
  count          = var.aws_token_issuer == null ? 0 : 1
  application_id = azuread_application.reader.id
  display_name   = "aws-lambda-ingest"
  description    = "The CascadeFlow Azure ingest function's AWS role (STS web identity token)"
  audiences      = [var.token_audience]
  issuer         = var.aws_token_issuer
  subject        = var.aws_role_arn
}
