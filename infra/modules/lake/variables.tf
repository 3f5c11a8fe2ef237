variable "name" {
  description = "Name prefix for every resource of this deployment (lower case, digits and dashes)."
  type        = string
}

variable "bucket_name" {
  description = "Globally unique name of the lake bucket; null derives it from name, account id and region."
  type        = string
  default     = null
}

variable "lake_prefix" {
  description = "Key prefix of the lake in the bucket (the same as the deployment's lake_prefix); lifecycle rules apply under it."
  type        = string
  default     = "cascadeflow"
}

variable "run_artifacts_expiry_days" {
  description = "Days after which per-run artifacts (projection history, reconciliation and findings runs) expire; the latest of each is kept."
  type        = number
  default     = 400
}

variable "quarantine_expiry_days" {
  description = "Days after which objects under quarantine/ and deadletter/ expire (kept long enough to inspect and replay)."
  type        = number
  default     = 90
}

variable "noncurrent_version_expiry_days" {
  description = "Days after which overwritten (noncurrent) object versions expire; re-ingest replaces partitions, so old versions only serve recovery."
  type        = number
  default     = 30
}

variable "athena_results_expiry_days" {
  description = "Days after which Athena query results under athena-results/ expire."
  type        = number
  default     = 30
}

variable "access_log_expiry_days" {
  description = "Days after which S3 server access logs expire."
  type        = number
  default     = 365
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete non-empty buckets (keep false for real data)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
