output "bucket_name" {
  description = "Name of the lake bucket (CASCADEFLOW_STORE is s3://<bucket_name>/<prefix>)."
  value       = aws_s3_bucket.lake.id
}

output "bucket_arn" {
  description = "ARN of the lake bucket."
  value       = aws_s3_bucket.lake.arn
}

output "log_bucket_name" {
  description = "Name of the bucket receiving S3 server access logs (reusable by other buckets of the deployment)."
  value       = aws_s3_bucket.logs.id
}

output "kms_key_arn" {
  description = "ARN of the deployment's customer managed KMS key."
  value       = aws_kms_key.this.arn
}
