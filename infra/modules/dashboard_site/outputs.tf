output "bucket_name" {
  description = "The site bucket: publish_dashboard writes under its site/dashboard/ prefix."
  value       = aws_s3_bucket.site.id
}

output "bucket_arn" {
  description = "ARN of the site bucket."
  value       = aws_s3_bucket.site.arn
}

output "kms_key_arn" {
  description = "The site bucket's key (the distribution may decrypt with it, nothing else outside IAM)."
  value       = aws_kms_key.site.arn
}

output "distribution_id" {
  description = "ID of the CloudFront distribution (for invalidations)."
  value       = aws_cloudfront_distribution.this.id
}

output "domain_name" {
  description = "Domain of the distribution: open https://<domain_name>/ for the dashboard."
  value       = aws_cloudfront_distribution.this.domain_name
}
