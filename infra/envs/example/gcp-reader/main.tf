# GCP side of the deployment, applied with GCP credentials (gcloud auth application-default
# login) by whoever administers the billing export project.

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

module "reader" {
  source                 = "../../../modules/gcp_reader"
  project                = var.project
  billing_export_project = coalesce(var.billing_export_project, var.project)
  billing_export_dataset = var.billing_export_dataset
  aws_account_id         = var.aws_account_id
  aws_role_name          = var.aws_role_name
}

output "service_account_email" {
  description = "The reader service account."
  value       = module.reader.service_account_email
}

output "workload_identity_provider" {
  description = "Provider for gcloud iam workload-identity-pools create-cred-config (null without federation)."
  value       = module.reader.workload_identity_provider
}
