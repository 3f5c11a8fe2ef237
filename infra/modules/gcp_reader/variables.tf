variable "project" {
  description = "GCP project that runs the BigQuery jobs (gets roles/bigquery.jobUser and roles/bigquery.readSessionUser for the reader)."
  type        = string
}

variable "billing_export_project" {
  description = "Project holding the billing export dataset (often the same as project)."
  type        = string
}

variable "billing_export_dataset" {
  description = "Dataset id of the Cloud Billing export to BigQuery (gets roles/bigquery.dataViewer for the reader)."
  type        = string
}

variable "account_id" {
  description = "Account id of the reader service account (6-30 characters)."
  type        = string
  default     = "cascadeflow-billing-reader"
}

variable "aws_account_id" {
  description = "AWS account of the ingest function: when set, a workload identity pool lets its role impersonate the reader without any key."
  type        = string
  default     = null
}

variable "aws_role_name" {
  description = "Name of the ingest_gcp_vertex execution role allowed to impersonate the reader (with aws_account_id)."
  type        = string
  default     = null
}
