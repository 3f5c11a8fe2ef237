output "bucket_name" {
  description = "Name of the artifacts bucket."
  value       = aws_s3_bucket.this.id
}

output "object_keys" {
  description = "Artifact name => S3 key of the uploaded zip."
  value       = { for name, obj in aws_s3_object.artifact : name => obj.key }
}

output "object_versions" {
  description = "Artifact name => S3 version id of the uploaded zip."
  value       = { for name, obj in aws_s3_object.artifact : name => obj.version_id }
}

output "image_repository_url" {
  description = "URL of the ECR repository for container-image functions (null when not created)."
  value       = try(aws_ecr_repository.images[0].repository_url, null)
}
