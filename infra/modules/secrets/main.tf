# Secrets Manager entries, referenced by name from the configuration
# (aws-secretsmanager:<name>/<secret>). Terraform creates the containers only: no
# aws_secretsmanager_secret_version here, so no value is ever in code, plans or state.

resource "aws_secretsmanager_secret" "this" {
  #checkov:skip=CKV2_AWS_57:No AWS rotation function can rotate these: third-party credentials (Slack, Stripe, Azure, GCP) are issued by those services, collector-secret is shared with every SDK sender (a scheduled rotation locks them out until each is reconfigured) and a new hmac-key changes every pseudonymised user id; each is rotated deliberately with put-secret-value (docs/deploy.md); set rotation_lambda_arn for a custom rotation.
  for_each                = var.secrets
  name                    = "${var.name}/${each.key}"
  description             = each.value
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_rotation" "this" {
  for_each            = var.rotation_lambda_arn == null ? {} : var.secrets
  secret_id           = aws_secretsmanager_secret.this[each.key].id
  rotation_lambda_arn = var.rotation_lambda_arn
  rotation_rules {
    automatically_after_days = var.rotation_days
  }
}
