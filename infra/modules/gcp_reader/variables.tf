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

variable "focus_view_dataset" {
  description = "Dataset holding Google's FOCUS view of the billing export (native_exports.bigquery_focus), when it is not the export's dataset; null: none. The reader gets BigQuery Data Viewer on it."
  type        = string
  default     = null
}

variable "focus_view_project" {
  description = "Project of focus_view_dataset; null means billing_export_project."
  type        = string
  default     = null
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

variable "aws_focus_role_name" {
  description = "Name of the ingest_gcp_focus_view execution role (the AWS root's gcp_focus_role_name output) allowed to impersonate the reader too (with aws_account_id); null: that function reads with a key, or not at all."
  type        = string
  default     = null
}
