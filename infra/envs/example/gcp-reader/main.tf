# GCP side of the deployment, applied with GCP credentials (gcloud auth application-default
# login) by whoever administers the billing export project. The Cloud Billing export itself is
# turned on in the console (Billing > Billing export > BigQuery export: detailed usage cost),
# into the dataset named here; Terraform cannot create it. Google's FOCUS view, when created in
# another dataset, is read through focus_view_dataset (docs/exports.md), by the scheduled
# ingest_gcp_focus_view function (aws_focus_role_name: its role federated too).

terraform {
  required_version = ">= 1.6"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8.0"
    }
  }
}

provider "google" {
  project = var.project
}

variable "project" {
  description = "Project that runs the BigQuery query jobs (sources.gcp_vertex.project)."
  type        = string
}

variable "billing_export_project" {
  description = "Project holding the billing export dataset; null means the same as project."
  type        = string
  default     = null
}

variable "billing_export_dataset" {
  description = "Dataset id of the Cloud Billing export (the dataset part of sources.gcp_vertex.billing_table)."
  type        = string
}

variable "focus_view_dataset" {
  description = "Dataset (in billing_export_project) holding Google's FOCUS view of the billing export, when it is not the export's dataset; null: none (the reader gets BigQuery Data Viewer on it too)."
  type        = string
  default     = null
}

variable "aws_account_id" {
  description = "AWS account of the deployment; with aws_role_name enables keyless workload identity federation."
  type        = string
  default     = null
}

variable "aws_role_name" {
  description = "The gcp_ingest_role_name output of the AWS environment."
  type        = string
  default     = null
}

variable "aws_focus_role_name" {
  description = "The gcp_focus_role_name output of the AWS environment (the scheduled FOCUS view reader), to federate it too; null: not federated."
  type        = string
  default     = null
}

module "reader" {
  source                 = "../../../modules/gcp_reader"
  project                = var.project
  billing_export_project = coalesce(var.billing_export_project, var.project)
  billing_export_dataset = var.billing_export_dataset
  focus_view_dataset     = var.focus_view_dataset
  aws_account_id         = var.aws_account_id
  aws_role_name          = var.aws_role_name
  aws_focus_role_name    = var.aws_focus_role_name
}

output "service_account_email" {
  description = "The reader service account."
  value       = module.reader.service_account_email
}

output "workload_identity_provider" {
  description = "Provider for gcloud iam workload-identity-pools create-cred-config (null without federation)."
  value       = module.reader.workload_identity_provider
}

# The FOCUS view's dataset grant moved into the module (beside the export dataset's).
moved {
  from = google_bigquery_dataset_iam_member.focus_view
  to   = module.reader.google_bigquery_dataset_iam_member.focus_view
}
