variable "name" {
  description = "Prefix of the export names (<name>-cur2 and <name>-focus12)."
  type        = string
}

variable "bucket_name" {
  description = "A bucket dedicated to the exports: its whole bucket policy is set here."
  type        = string
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
