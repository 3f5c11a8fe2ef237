output "service_account_email" {
  description = "E-mail of the reader service account."
  value       = google_service_account.reader.email
}

output "workload_identity_provider" {
  description = "Full name of the AWS workload identity provider (null without federation); use it to generate the credential configuration with gcloud iam workload-identity-pools create-cred-config."
  value       = try(google_iam_workload_identity_pool_provider.aws[0].name, null)
}
