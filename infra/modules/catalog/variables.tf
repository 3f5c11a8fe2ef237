variable "name" {
  description = "Name prefix; the Glue database is <name with dashes as underscores> and the workgroup <name>."
  type        = string
}

variable "bucket_name" {
  description = "Lake bucket name."
  type        = string
}

variable "lake_prefix" {
  description = "Key prefix of the lake inside the bucket (the store URL is s3://<bucket>/<prefix>)."
  type        = string
  default     = "cascadeflow"
}

variable "kms_key_arn" {
  description = "KMS key encrypting Athena query results."
  type        = string
}

variable "cost_sources" {
  description = "Values of the costs table's source partition (enum projection); a source missing here is invisible to Athena."
  type        = list(string)
  default     = ["aws_bedrock", "azure_openai", "gcp_vertex"]
}

variable "projection_start_date" {
  description = "First day (YYYY-MM-DD) the date partition projection covers."
  type        = string
  default     = "2024-01-01"
}

variable "bytes_scanned_cutoff" {
  description = "Athena cancels a query of this workgroup that scans more than this many bytes."
  type        = number
  default     = 107374182400 # 100 GiB
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
