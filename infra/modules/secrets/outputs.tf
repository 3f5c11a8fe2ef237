output "names" {
  description = "Secret short name => full Secrets Manager name (use aws-secretsmanager:<full name> in the configuration)."
  value       = { for key, secret in aws_secretsmanager_secret.this : key => secret.name }
}

output "arns" {
  description = "Secret short name => ARN."
  value       = { for key, secret in aws_secretsmanager_secret.this : key => secret.arn }
}
