variable "name" {
  description = "Name prefix for every resource of this deployment."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the deployment's KMS key (encrypts the artifact objects and the image repository)."
  type        = string
}

variable "log_bucket_name" {
  description = "Bucket that receives this bucket's S3 server access logs."
  type        = string
}

variable "artifacts" {
  description = "Lambda zip artifacts to upload: artifact name => local path of the zip built by `make package` (dist/<name>.zip)."
  type        = map(string)
}

variable "create_image_repository" {
  description = "Create an ECR repository for container-image functions (the forecast stack when it outgrows the 250 MB zip limit)."
  type        = bool
  default     = false
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete the non-empty artifacts bucket."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
