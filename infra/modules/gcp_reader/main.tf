# The identity the GCP ingest functions use: a service account that can read the billing export
# dataset (and the dataset of Google's FOCUS view over it, when that is another one), run query
# jobs and read their results (Storage Read API), nothing else. No key is created here (it would
# land in the Terraform state). Either federate the AWS roles (aws_account_id + aws_role_name,
# and aws_focus_role_name for the scheduled FOCUS view reader: workload identity, no key at all)
# or create a key with gcloud and put it straight into Secrets Manager.

locals {
  # the execution roles allowed to impersonate the reader: assumed-role ARNs without the session
  # name, as attribute.aws_role maps them
  federated_roles = {
    for key, name in { ingest = var.aws_role_name, focus_view = var.aws_focus_role_name } :
    key => "arn:aws:sts::${var.aws_account_id}:assumed-role/${name}"
    if var.aws_account_id != null && name != null
  }
  federate = length(local.federated_roles) > 0
  # the view's dataset needs its own grant only when it is not the export's (granted below)
  focus_view_elsewhere = var.focus_view_dataset != null && (var.focus_view_dataset != var.billing_export_dataset || coalesce(var.focus_view_project, var.billing_export_project) != var.billing_export_project)
}

resource "google_service_account" "reader" {
  project      = var.project
  account_id   = var.account_id
  display_name = "CascadeFlow billing export reader"
}

resource "google_bigquery_dataset_iam_member" "viewer" {
  project    = var.billing_export_project
  dataset_id = var.billing_export_dataset
  role       = "roles/bigquery.dataViewer"
  member     = "serviceAccount:${google_service_account.reader.email}"
}

# A view is read with the rights on its own dataset and on the tables it selects from (the
# export's dataset, above): BigQuery Data Viewer on the view's dataset only when it is another.
resource "google_bigquery_dataset_iam_member" "focus_view" {
  count      = local.focus_view_elsewhere ? 1 : 0
  project    = coalesce(var.focus_view_project, var.billing_export_project)
  dataset_id = var.focus_view_dataset
  role       = "roles/bigquery.dataViewer"
  member     = "serviceAccount:${google_service_account.reader.email}"
}

resource "google_project_iam_member" "job_user" {
  project = var.project
  role    = "roles/bigquery.jobUser"
  member  = "serviceAccount:${google_service_account.reader.email}"
}

# Reads the query's result through the BigQuery Storage Read API (Arrow over gRPC; several
# times cheaper to decode than REST pages). Without it the function falls back to REST pages.
resource "google_project_iam_member" "read_session_user" {
  project = var.project
  role    = "roles/bigquery.readSessionUser"
  member  = "serviceAccount:${google_service_account.reader.email}"
}

resource "google_iam_workload_identity_pool" "aws" {
  count                     = local.federate ? 1 : 0
  project                   = var.project
  workload_identity_pool_id = "cascadeflow-aws"
  display_name              = "CascadeFlow on AWS"
}

resource "google_iam_workload_identity_pool_provider" "aws" {
  #checkov:skip=CKV_GCP_125:GitHub Actions OIDC check; this provider federates AWS (aws block, no oidc block) and is limited to one role by attribute_condition.
  count                              = local.federate ? 1 : 0
  project                            = var.project
  workload_identity_pool_id          = google_iam_workload_identity_pool.aws[0].workload_identity_pool_id
  workload_identity_pool_provider_id = "aws-${var.aws_account_id}"
  attribute_condition                = join(" || ", [for arn in values(local.federated_roles) : "attribute.aws_role == \"${arn}\""])
  attribute_mapping = {
    "google.subject"     = "assertion.arn"
    "attribute.aws_role" = "assertion.arn.contains('assumed-role') ? assertion.arn.extract('{account_arn}assumed-role/') + 'assumed-role/' + assertion.arn.extract('assumed-role/{role_name}/') : assertion.arn"
  }
  aws {
    account_id = var.aws_account_id
  }
}

resource "google_service_account_iam_member" "federated" {
  for_each           = local.federated_roles
  service_account_id = google_service_account.reader.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.aws[0].name}/attribute.aws_role/${each.value}"
}

moved {
  from = google_service_account_iam_member.federated[0]
  to   = google_service_account_iam_member.federated["ingest"]
}
