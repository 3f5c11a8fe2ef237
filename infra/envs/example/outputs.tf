output "store_url" {
  description = "CASCADEFLOW_STORE of the deployment (use it with the CLI: cascadeflow-cloud --store ...)."
  value       = local.store
}

output "collector_url" {
  description = "Function URL the SDK sinks post usage events to."
  value       = module.functions["collect_events"].url
}

output "function_names" {
  description = "Handler => deployed Lambda function name."
  value       = { for fn, m in module.functions : fn => m.function_name }
}

output "secret_names" {
  description = "Secret short name => Secrets Manager name to put the value into (aws secretsmanager put-secret-value)."
  value       = module.secrets.names
}

output "athena_workgroup" {
  description = "Athena workgroup for SQL over the lake."
  value       = module.catalog.workgroup
}

output "glue_database" {
  description = "Glue database with the costs and events tables."
  value       = module.catalog.database
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify (subscribe chat or paging tools to it)."
  value       = module.alarms.topic_arn
}

output "gcp_ingest_role_name" {
  description = "Execution role of ingest_gcp_vertex (input of the gcp reader's workload identity federation)."
  value       = module.functions["ingest_gcp_vertex"].role_name
}

output "gcp_focus_role_name" {
  description = "Execution role of ingest_gcp_focus_view (gcp-reader's aws_focus_role_name: the second role its workload identity federation trusts)."
  value       = module.functions["ingest_gcp_focus_view"].role_name
}

output "kms_key_arn" {
  description = "The deployment's KMS key."
  value       = module.lake.kms_key_arn
}

output "state_machine_arns" {
  description = "Fan-out job => Step Functions state machine ARN (aws stepfunctions start-execution --state-machine-arn ... to run one now)."
  value       = { for fn, m in module.fanout : fn => m.state_machine_arn }
}

output "azure_ingest_role_arn" {
  description = "Role of the Azure ingest function: the subject of the Entra federated credential (azure-reader's aws_role_arn) for keyless Azure."
  value       = module.functions["ingest_azure_openai"].role_arn
}

output "azure_export_role_arn" {
  description = "Role of the Azure export reader (ingest_azure_export): the subject of its own Entra federated credential (azure-reader's aws_export_role_arn) for keyless reads of the export container."
  value       = module.functions["ingest_azure_export"].role_arn
}

output "dashboard_url" {
  description = "The dashboard site (dashboard_site enabled): open it in a browser; null when the site is off."
  value       = var.dashboard_site.enabled ? "https://${module.dashboard_site[0].domain_name}/" : null
}
