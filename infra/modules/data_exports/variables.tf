variable "name" {
  description = "Prefix of the export names (<name>-cur2 and <name>-focus12)."
  type        = string
}

variable "bucket_name" {
  description = "Name of the bucket created for the exports (dedicated to them: its whole bucket policy is set here)."
  type        = string
}

variable "log_bucket_name" {
  description = "Bucket receiving the export bucket's S3 server access logs (the lake module's log bucket)."
  type        = string
}

variable "function_name" {
  description = "Name of the ingest_export function invoked on each manifest write."
  type        = string
}

variable "function_arn" {
  description = "ARN of the ingest_export function (the S3 notification's target)."
  type        = string
}

variable "force_destroy" {
  description = "Let terraform destroy delete the bucket with its exports in it."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to the bucket."
  type        = map(string)
  default     = {}
}

variable "prefix" {
  description = "S3 prefix under which each export writes <export>/data and <export>/metadata."
  type        = string
  default     = "exports"
}

variable "bucket_region" {
  description = "Region of the export bucket."
  type        = string
  default     = "us-east-1"
}

variable "time_granularity" {
  description = "HOURLY, DAILY or MONTHLY rows in both exports."
  type        = string
  default     = "HOURLY"
  validation {
    condition     = contains(["HOURLY", "DAILY", "MONTHLY"], var.time_granularity)
    error_message = "time_granularity must be HOURLY, DAILY or MONTHLY."
  }
}

variable "include_focus" {
  description = "Also create the FOCUS 1.2 export (FOCUS_1_2_AWS table) beside CUR 2.0."
  type        = bool
  default     = true
}
