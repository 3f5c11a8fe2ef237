# The identity the Azure ingest function uses: an app registration and its service principal with
# Cost Management Reader at one scope. No client secret is created here (it would land in the
# Terraform state): create it with `az ad app credential reset` and put it straight into Secrets
# Manager (infra/envs/example/README.md).

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
