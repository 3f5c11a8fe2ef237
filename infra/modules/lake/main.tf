# The lake: one KMS customer managed key for the deployment, the lake bucket and the bucket that
# receives the lake's S3 server access logs.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.region
  partition = data.aws_partition.current.partition
  bucket    = coalesce(var.bucket_name, "${var.name}-lake-${local.account}-${local.region}")
  logs      = "${local.bucket}-logs"
  # the lake's keys sit under this prefix (CASCADEFLOW_STORE=s3://<bucket>/<prefix>); the
  # lifecycle rules below follow cascadeflow_cloud.lake.retention.RETENTION under it
  lake = trim(var.lake_prefix, "/") == "" ? "" : "${trim(var.lake_prefix, "/")}/"
}

# ---------------------------------------------------------------- key
resource "aws_kms_key" "this" {
  description             = "${var.name}: lake, logs, queues, topics, secrets and function environments"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = 30
  is_enabled              = true
  tags                    = var.tags

  # Account root (IAM policies decide who uses the key) plus the services that encrypt with it on
  # the deployment's behalf, each limited to this account.
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersKeyThroughIam"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsEncryptsThisAccountsLogGroups"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
        Resource  = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:*"
          }
        }
      },
      {
        Sid       = "AlarmsPublishToEncryptedTopicAndSchedulerDecryptsInput"
        Effect    = "Allow"
        Principal = { Service = ["cloudwatch.amazonaws.com", "scheduler.amazonaws.com"] }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account }
        }
      },
    ]
  })
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}

# ---------------------------------------------------------------- access-log bucket
# S3 server access logging delivers only to buckets encrypted with SSE-S3 (AES256), so this
# bucket cannot use the CMK; it is private, versioned and expires logs (see infra/.checkov.yaml).
resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_145:S3 server access logging can only deliver to a bucket encrypted with SSE-S3, not SSE-KMS.
  bucket        = local.logs
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    id     = "expire-access-logs"
    status = "Enabled"
    filter {}
    expiration {
      days = var.access_log_expiry_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_notification" "logs" {
  bucket      = aws_s3_bucket.logs.id
  eventbridge = true
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = { AWS = "*" }
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.logs.arn, "${aws_s3_bucket.logs.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
      {
        Sid       = "S3ServerAccessLogsFromThisAccountsBuckets"
        Effect    = "Allow"
        Principal = { Service = "logging.s3.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = "${aws_s3_bucket.logs.arn}/s3-access/*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account }
        }
      },
    ]
  })
  depends_on = [aws_s3_bucket_public_access_block.logs]
}

# ---------------------------------------------------------------- lake bucket
resource "aws_s3_bucket" "lake" {
  bucket        = local.bucket
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "lake" {
  bucket = aws_s3_bucket.lake.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "lake" {
  bucket                  = aws_s3_bucket.lake.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "lake" {
  bucket = aws_s3_bucket.lake.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "lake" {
  bucket = aws_s3_bucket.lake.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_logging" "lake" {
  bucket        = aws_s3_bucket.lake.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "s3-access/${local.bucket}/"
}

resource "aws_s3_bucket_notification" "lake" {
  bucket      = aws_s3_bucket.lake.id
  eventbridge = true
}

resource "aws_s3_bucket_lifecycle_configuration" "lake" {
  bucket     = aws_s3_bucket.lake.id
  depends_on = [aws_s3_bucket_versioning.lake]

  rule {
    id     = "expire-quarantine"
    status = "Enabled"
    filter {
      prefix = "${local.lake}quarantine/"
    }
    expiration {
      days = var.quarantine_expiry_days
    }
  }

  rule {
    id     = "expire-deadletter"
    status = "Enabled"
    filter {
      prefix = "${local.lake}deadletter/"
    }
    expiration {
      days = var.quarantine_expiry_days
    }
  }

  rule {
    id     = "expire-projection-history"
    status = "Enabled"
    filter {
      prefix = "${local.lake}projections/run="
    }
    expiration {
      days = var.run_artifacts_expiry_days
    }
  }

  rule {
    id     = "expire-legacy-projection-history"
    status = "Enabled"
    filter {
      prefix = "${local.lake}projections/budget="
    }
    expiration {
      days = var.run_artifacts_expiry_days
    }
  }

  rule {
    id     = "expire-reconciliation-runs"
    status = "Enabled"
    filter {
      prefix = "${local.lake}reconciliation/run="
    }
    expiration {
      days = var.run_artifacts_expiry_days
    }
  }

  rule {
    id     = "expire-findings-runs"
    status = "Enabled"
    filter {
      prefix = "${local.lake}findings/run="
    }
    expiration {
      days = var.run_artifacts_expiry_days
    }
  }

  rule {
    id     = "expire-athena-results"
    status = "Enabled"
    filter {
      prefix = "athena-results/"
    }
    expiration {
      days = var.athena_results_expiry_days
    }
  }

  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiry_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_policy" "lake" {
  bucket = aws_s3_bucket.lake.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = { AWS = "*" }
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.lake.arn, "${aws_s3_bucket.lake.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
      {
        Sid       = "DenyObjectsNotEncryptedWithTheLakeKey"
        Effect    = "Deny"
        Principal = { AWS = "*" }
        Action    = "s3:PutObject"
        Resource  = "${aws_s3_bucket.lake.arn}/*"
        Condition = {
          StringNotEqualsIfExists = {
            "s3:x-amz-server-side-encryption-aws-kms-key-id" = aws_kms_key.this.arn
          }
        }
      },
    ]
  })
  depends_on = [aws_s3_bucket_public_access_block.lake]
}
