output "database" {
  description = "Glue database holding the costs and events tables."
  value       = aws_glue_catalog_database.this.name
}

output "workgroup" {
  description = "Athena workgroup to run queries in (results are encrypted and expire)."
  value       = aws_athena_workgroup.this.name
}
