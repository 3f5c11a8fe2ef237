# SQL over the lake at any size: Glue tables with partition projection (no crawler, no MSCK
# REPAIR) and an Athena workgroup whose encrypted result location cannot be overridden.
# Table and column names follow cascadeflow_cloud.lake.tables (a test compares them).

locals {
  database = replace(var.name, "-", "_")
  root     = "s3://${var.bucket_name}/${trim(var.lake_prefix, "/")}"
  date_projection = {
    "projection.date.type"          = "date"
    "projection.date.format"        = "yyyy-MM-dd"
    "projection.date.range"         = "${var.projection_start_date},NOW"
    "projection.date.interval"      = "1"
    "projection.date.interval.unit" = "DAYS"
  }
  month_projection = {
    "projection.month.type"          = "date"
    "projection.month.format"        = "yyyy-MM"
    "projection.month.range"         = "${substr(var.projection_start_date, 0, 7)},NOW"
    "projection.month.interval"      = "1"
    "projection.month.interval.unit" = "MONTHS"
  }
}

resource "aws_glue_catalog_database" "this" {
  name        = local.database
  description = "CascadeFlow Cloud lake (costs and usage events)"
}

resource "aws_glue_catalog_table" "costs" {
  name          = "costs"
  database_name = aws_glue_catalog_database.this.name
  description   = "Billed LLM costs, FOCUS columns plus x_ extensions; one object per (source, scope, month), filter days on ChargePeriodStart. scope values are percent-encoded as in the object keys (/ is %2F)."
  table_type    = "EXTERNAL_TABLE"

  parameters = merge(local.month_projection, {
    "classification"            = "parquet"
    "EXTERNAL"                  = "TRUE"
    "projection.enabled"        = "true"
    "projection.source.type"    = "enum"
    "projection.source.values"  = join(",", var.cost_sources)
    "projection.scope.type"     = "injected"
    "storage.location.template" = "${local.root}/costs/source=$${source}/scope=$${scope}/month=$${month}/"
  })

  partition_keys {
    name = "source"
    type = "string"
  }
  partition_keys {
    name = "scope"
    type = "string"
  }
  partition_keys {
    name = "month"
    type = "string"
  }

  storage_descriptor {
    location      = "${local.root}/costs/"
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

    ser_de_info {
      serialization_library = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    }

    columns {
      name = "BilledCost"
      type = "decimal(38,12)"
    }
    columns {
      name = "EffectiveCost"
      type = "decimal(38,12)"
    }
    columns {
      name = "ListCost"
      type = "decimal(38,12)"
    }
    columns {
      name = "BillingCurrency"
      type = "string"
    }
    columns {
      name = "BillingAccountId"
      type = "string"
    }
    columns {
      name = "ChargePeriodStart"
      type = "timestamp"
    }
    columns {
      name = "ChargePeriodEnd"
      type = "timestamp"
    }
    columns {
      name = "ChargeCategory"
      type = "string"
    }
    columns {
      name = "ChargeDescription"
      type = "string"
    }
    columns {
      name = "ProviderName"
      type = "string"
    }
    columns {
      name = "PublisherName"
      type = "string"
    }
    columns {
      name = "ServiceName"
      type = "string"
    }
    columns {
      name = "ServiceCategory"
      type = "string"
    }
    columns {
      name = "SubAccountId"
      type = "string"
    }
    columns {
      name = "RegionId"
      type = "string"
    }
    columns {
      name = "ResourceId"
      type = "string"
    }
    columns {
      name = "SkuId"
      type = "string"
    }
    columns {
      name = "ConsumedQuantity"
      type = "decimal(38,12)"
    }
    columns {
      name = "ConsumedUnit"
      type = "string"
    }
    columns {
      name    = "Tags"
      type    = "string"
      comment = "JSON object"
    }
    columns {
      name = "x_Model"
      type = "string"
    }
    columns {
      name = "x_TokenType"
      type = "string"
    }
    columns {
      name = "x_Source"
      type = "string"
    }
    columns {
      name = "x_Estimated"
      type = "boolean"
    }
    columns {
      name = "x_IngestedAt"
      type = "timestamp"
    }
    columns {
      name = "x_ModelSpelling"
      type = "string"
    }
    columns {
      name = "PricingCategory"
      type = "string"
    }
    columns {
      name = "x_ServiceTier"
      type = "string"
    }
    columns {
      name = "x_ChargeKind"
      type = "string"
    }
    columns {
      name = "x_TokenModality"
      type = "string"
    }
    columns {
      name = "x_ContextTier"
      type = "string"
    }
    columns {
      name = "x_CacheWriteTtl"
      type = "string"
    }
    columns {
      name = "BillingAccountName"
      type = "string"
    }
    columns {
      name = "BillingAccountType"
      type = "string"
    }
    columns {
      name = "SubAccountName"
      type = "string"
    }
    columns {
      name = "SubAccountType"
      type = "string"
    }
    columns {
      name = "BillingPeriodStart"
      type = "timestamp"
    }
    columns {
      name = "BillingPeriodEnd"
      type = "timestamp"
    }
    columns {
      name = "ChargeClass"
      type = "string"
    }
    columns {
      name = "ChargeFrequency"
      type = "string"
    }
    columns {
      name = "InvoiceId"
      type = "string"
    }
    columns {
      name = "InvoiceIssuerName"
      type = "string"
    }
    columns {
      name = "RegionName"
      type = "string"
    }
    columns {
      name = "AvailabilityZone"
      type = "string"
    }
    columns {
      name = "ResourceName"
      type = "string"
    }
    columns {
      name = "ResourceType"
      type = "string"
    }
    columns {
      name = "ServiceSubcategory"
      type = "string"
    }
    columns {
      name = "SkuMeter"
      type = "string"
    }
    columns {
      name = "SkuPriceId"
      type = "string"
    }
    columns {
      name = "SkuPriceDetails"
      type = "string"
    }
    columns {
      name = "ListUnitPrice"
      type = "decimal(38,12)"
    }
    columns {
      name = "ContractedUnitPrice"
      type = "decimal(38,12)"
    }
    columns {
      name = "ContractedCost"
      type = "decimal(38,12)"
    }
    columns {
      name = "PricingQuantity"
      type = "decimal(38,12)"
    }
    columns {
      name = "PricingUnit"
      type = "string"
    }
    columns {
      name = "PricingCurrency"
      type = "string"
    }
    columns {
      name = "CommitmentDiscountId"
      type = "string"
    }
    columns {
      name = "CommitmentDiscountName"
      type = "string"
    }
    columns {
      name = "CommitmentDiscountType"
      type = "string"
    }
    columns {
      name = "CommitmentDiscountCategory"
      type = "string"
    }
    columns {
      name = "CommitmentDiscountStatus"
      type = "string"
    }
    columns {
      name = "CommitmentDiscountQuantity"
      type = "decimal(38,12)"
    }
    columns {
      name = "CommitmentDiscountUnit"
      type = "string"
    }
    columns {
      name = "CapacityReservationId"
      type = "string"
    }
    columns {
      name = "CapacityReservationStatus"
      type = "string"
    }
  }
}

resource "aws_glue_catalog_table" "events" {
  name          = "events"
  database_name = aws_glue_catalog_database.this.name
  description   = "Per-call LLM usage events (Parquet batches; event_id is the dedup key, duplicates are possible before compaction)."
  table_type    = "EXTERNAL_TABLE"

  parameters = merge(local.date_projection, {
    "classification"            = "parquet"
    "EXTERNAL"                  = "TRUE"
    "projection.enabled"        = "true"
    "storage.location.template" = "${local.root}/events/date=$${date}/"
  })

  partition_keys {
    name = "date"
    type = "string"
  }

  storage_descriptor {
    location      = "${local.root}/events/"
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

    ser_de_info {
      serialization_library = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    }

    columns {
      name = "event_id"
      type = "string"
    }
    columns {
      name = "timestamp"
      type = "timestamp"
    }
    columns {
      name = "provider"
      type = "string"
    }
    columns {
      name = "model"
      type = "string"
    }
    columns {
      name = "region"
      type = "string"
    }
    columns {
      name = "input_tokens"
      type = "bigint"
    }
    columns {
      name = "output_tokens"
      type = "bigint"
    }
    columns {
      name = "cache_read_tokens"
      type = "bigint"
    }
    columns {
      name = "cache_write_tokens"
      type = "bigint"
    }
    columns {
      name = "reasoning_tokens"
      type = "bigint"
    }
    columns {
      name = "estimated_cost"
      type = "decimal(38,12)"
    }
    columns {
      name = "input_cost"
      type = "decimal(38,12)"
    }
    columns {
      name = "output_cost"
      type = "decimal(38,12)"
    }
    columns {
      name = "currency"
      type = "string"
    }
    columns {
      name = "priced"
      type = "boolean"
    }
    columns {
      name = "latency_ms"
      type = "double"
    }
    columns {
      name = "streamed"
      type = "boolean"
    }
    columns {
      name = "status"
      type = "string"
    }
    columns {
      name = "operation"
      type = "string"
    }
    columns {
      name = "user_id"
      type = "string"
    }
    columns {
      name = "customer_id"
      type = "string"
    }
    columns {
      name = "team"
      type = "string"
    }
    columns {
      name    = "tags"
      type    = "string"
      comment = "JSON object"
    }
    columns {
      name = "confidence"
      type = "double"
    }
    columns {
      name    = "model_id"
      type    = "string"
      comment = "canonical model id (model catalog); null in batches written before it"
    }
  }
}

resource "aws_athena_workgroup" "this" {
  name          = var.name
  description   = "Queries over the CascadeFlow lake; results encrypted with the deployment key"
  force_destroy = true
  tags          = var.tags

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.bytes_scanned_cutoff

    result_configuration {
      output_location = "s3://${var.bucket_name}/athena-results/"
      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = var.kms_key_arn
      }
    }
  }
}
