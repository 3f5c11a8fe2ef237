output "tenant_id" {
  description = "Tenant of the app registration (sources.azure_openai.tenant_id)."
  value       = data.azuread_client_config.current.tenant_id
}

output "client_id" {
  description = "Application (client) id (sources.azure_openai.client_id)."
  value       = azuread_application.reader.client_id
}

output "scope" {
  description = "The scope the reader may query."
  value       = var.scope
}

output "export_container_id" {
  description = "The container the reader may read (Storage Blob Data Reader), or null."
  value       = var.export_container_id
}
