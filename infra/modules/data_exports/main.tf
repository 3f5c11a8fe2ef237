# AWS Data Exports for `cascadeflow-cloud ingest export`: CUR 2.0 and FOCUS 1.2 with AWS columns,
# Parquet, overwritten in place per billing period (a delivery replaces its period), into a
# bucket dedicated to them, whose manifest writes invoke the ingest_export function (S3 event
# notification). Reference: docs.aws.amazon.com/cur/latest/userguide/
# dataexports-export-delivery.html and dataexports-s3-bucket.html (bucket policy). Data Exports
# runs in us-east-1 only: apply this module with a us-east-1 provider.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account = data.aws_caller_identity.current.account_id
  bucket  = aws_s3_bucket.exports.arn
  # The CUR 2.0 columns the importer reads (sources/native/aws_cur.py); Data Exports needs an
  # explicit column list.
  cur2_columns = join(", ", [
    "bill_billing_period_end_date", "bill_billing_period_start_date", "bill_invoice_id",
    "bill_invoicing_entity", "bill_payer_account_id", "bill_payer_account_name",
    "line_item_availability_zone", "line_item_currency_code", "line_item_legal_entity",
    "line_item_line_item_description", "line_item_line_item_type", "line_item_net_unblended_cost",
    "line_item_net_unblended_rate", "line_item_operation", "line_item_product_code",
    "line_item_resource_id", "line_item_unblended_cost", "line_item_unblended_rate",
    "line_item_usage_account_id", "line_item_usage_account_name", "line_item_usage_amount",
    "line_item_usage_end_date", "line_item_usage_start_date", "line_item_usage_type",
    "pricing_currency", "pricing_public_on_demand_cost", "pricing_public_on_demand_rate",
    "pricing_purchase_option", "pricing_rate_code", "pricing_unit", "product",
    "reservation_effective_cost", "reservation_reservation_a_r_n", "resource_tags",
    "savings_plan_savings_plan_a_r_n", "savings_plan_savings_plan_effective_cost",
  ])
  focus_columns = join(", ", [
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName",
    "BillingAccountType", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart",
    "CapacityReservationId", "CapacityReservationStatus", "ChargeCategory", "ChargeClass",
    "ChargeDescription", "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart",
    "CommitmentDiscountCategory", "CommitmentDiscountId", "CommitmentDiscountName",
    "CommitmentDiscountQuantity", "CommitmentDiscountStatus", "CommitmentDiscountType",
    "CommitmentDiscountUnit", "ConsumedQuantity", "ConsumedUnit", "ContractedCost",
    "ContractedUnitPrice", "EffectiveCost", "InvoiceId", "InvoiceIssuerName", "ListCost",
    "ListUnitPrice", "PricingCategory", "PricingCurrency", "PricingQuantity", "PricingUnit",
    "ProviderName", "PublisherName", "RegionId", "RegionName", "ResourceId", "ResourceName",
    "ResourceType", "ServiceCategory", "ServiceName", "ServiceSubcategory", "SkuId", "SkuMeter",
    "SkuPriceDetails", "SkuPriceId", "SubAccountId", "SubAccountName", "SubAccountType", "Tags",
    "x_Operation", "x_ServiceCode",
  ])
}

resource "aws_bcmdataexports_export" "cur2" {
  export {
    name        = "${var.name}-cur2"
    description = "CUR 2.0 for cascadeflow-cloud ingest export"
    data_query {
      query_statement = "SELECT ${local.cur2_columns} FROM COST_AND_USAGE_REPORT"
      table_configurations = {
        COST_AND_USAGE_REPORT = {
          TIME_GRANULARITY                      = var.time_granularity
          INCLUDE_RESOURCES                     = "TRUE"
          INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY = "FALSE"
          INCLUDE_SPLIT_COST_ALLOCATION_DATA    = "FALSE"
        }
      }
    }
    destination_configurations {
      s3_destination {
        s3_bucket = var.bucket_name
        s3_prefix = var.prefix
        s3_region = var.bucket_region
        s3_output_configurations {
          overwrite   = "OVERWRITE_REPORT"
          format      = "PARQUET"
          compression = "PARQUET"
          output_type = "CUSTOM"
        }
      }
    }
    refresh_cadence {
      frequency = "SYNCHRONOUS"
    }
  }
  depends_on = [aws_s3_bucket_policy.exports]
}

resource "aws_bcmdataexports_export" "focus" {
  count = var.include_focus ? 1 : 0
  export {
    name        = "${var.name}-focus12"
    description = "FOCUS 1.2 with AWS columns for cascadeflow-cloud ingest export"
    data_query {
      query_statement = "SELECT ${local.focus_columns} FROM FOCUS_1_2_AWS"
      table_configurations = {
        FOCUS_1_2_AWS = {
          TIME_GRANULARITY = var.time_granularity
        }
      }
    }
    destination_configurations {
      s3_destination {
        s3_bucket = var.bucket_name
        s3_prefix = var.prefix
        s3_region = var.bucket_region
        s3_output_configurations {
          overwrite   = "OVERWRITE_REPORT"
          format      = "PARQUET"
          compression = "PARQUET"
          output_type = "CUSTOM"
        }
      }
    }
    refresh_cadence {
      frequency = "SYNCHRONOUS"
    }
  }
  depends_on = [aws_s3_bucket_policy.exports]
}

# Only the billing services of this account may write, over TLS only.
data "aws_iam_policy_document" "exports" {
  statement {
    sid     = "DataExportsWrite"
    actions = ["s3:PutObject", "s3:GetBucketPolicy"]
    principals {
      type        = "Service"
      identifiers = ["billingreports.amazonaws.com", "bcm-data-exports.amazonaws.com"]
    }
    resources = [local.bucket, "${local.bucket}/*"]
    condition {
      test     = "StringLike"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
    condition {
      test     = "StringLike"
      variable = "aws:SourceArn"
      values = [
        "arn:${data.aws_partition.current.partition}:cur:us-east-1:${local.account}:definition/*",
        "arn:${data.aws_partition.current.partition}:bcm-data-exports:us-east-1:${local.account}:export/*",
      ]
    }
  }
  statement {
    sid    = "TlsOnly"
    effect = "Deny"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket",
    "s3:GetBucketPolicy", "s3:PutBucketPolicy"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    resources = [local.bucket, "${local.bucket}/*"]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "exports" {
  bucket     = aws_s3_bucket.exports.id
  policy     = data.aws_iam_policy_document.exports.json
  depends_on = [aws_s3_bucket_public_access_block.exports]
}

# ---------------------------------------------------------------- the bucket
resource "aws_s3_bucket" "exports" {
  #checkov:skip=CKV_AWS_145:AWS documents Data Exports delivery with a bucket policy only (dataexports-s3-bucket.html), no KMS key policy for its service principals; the objects are SSE-S3 encrypted, private and TLS-only.
  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "exports" {
  bucket = aws_s3_bucket.exports.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "exports" {
  bucket                  = aws_s3_bucket.exports.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "exports" {
  bucket = aws_s3_bucket.exports.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "exports" {
  bucket = aws_s3_bucket.exports.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_logging" "exports" {
  bucket        = aws_s3_bucket.exports.id
  target_bucket = var.log_bucket_name
  target_prefix = "s3-access/${var.bucket_name}/"
}

# A restated period overwrites its files: the replaced versions expire after 30 days.
resource "aws_s3_bucket_lifecycle_configuration" "exports" {
  bucket     = aws_s3_bucket.exports.id
  depends_on = [aws_s3_bucket_versioning.exports]
  rule {
    id     = "expire-replaced-deliveries"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

# ---------------------------------------------------------------- delivery -> ingest_export
# Data Exports rewrites a period's manifest after its data files: the manifest's ObjectCreated
# event invokes the function, which reads that delivery (an incomplete one fails the invocation,
# retried by Lambda, then dead-lettered).
resource "aws_lambda_permission" "manifest" {
  statement_id   = "InvokeOnExportManifest"
  action         = "lambda:InvokeFunction"
  function_name  = var.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = aws_s3_bucket.exports.arn
  source_account = local.account
}

resource "aws_s3_bucket_notification" "exports" {
  bucket = aws_s3_bucket.exports.id
  lambda_function {
    id                  = "cascadeflow-export-manifest"
    lambda_function_arn = var.function_arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = "${trim(var.prefix, "/")}/"
    filter_suffix       = "-Manifest.json"
  }
  depends_on = [aws_lambda_permission.manifest]
}
