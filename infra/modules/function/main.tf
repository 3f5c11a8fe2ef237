# One deployable function: its own role with an inline least-privilege policy, an encrypted log
# group, an encrypted dead-letter queue, X-Ray tracing, reserved concurrency, a KMS-encrypted
# environment, and exactly one trigger (a schedule, a function URL, or a fan-out state machine).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  image     = var.image_uri != null
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
}

# ---------------------------------------------------------------- logs and dead letters
resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sqs_queue" "dlq" {
  name                              = "${var.function_name}-dlq"
  message_retention_seconds         = 1209600 # 14 days, the SQS maximum
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 3600
  tags                              = var.tags
}

# ---------------------------------------------------------------- execution role
resource "aws_iam_role" "this" {
  name        = "${var.function_name}-fn"
  description = "Execution role of ${var.function_name} (least privilege, see cascadeflow_cloud.permissions)"
  tags        = var.tags
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account } }
    }]
  })
}

# Runtime grants every function has (permissions.RUNTIME_COMPONENTS: logs, xray, dead_letter),
# then one statement per component the function declares.
data "aws_iam_policy_document" "this" {
  statement {
    sid       = "logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  statement {
    sid       = "xray"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  statement {
    sid       = "deadletter"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]
  }

  dynamic "statement" {
    for_each = var.policy_statements
    content {
      sid       = replace(statement.value.sid, "/[^A-Za-z0-9]/", "")
      actions   = statement.value.actions
      resources = statement.value.resources
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "least-privilege"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

# ---------------------------------------------------------------- the function
resource "aws_lambda_function" "this" {
  function_name                  = var.function_name
  description                    = var.description
  role                           = aws_iam_role.this.arn
  package_type                   = local.image ? "Image" : "Zip"
  image_uri                      = var.image_uri
  handler                        = local.image ? null : var.handler
  runtime                        = local.image ? null : var.runtime
  s3_bucket                      = local.image ? null : var.s3_bucket
  s3_key                         = local.image ? null : var.s3_key
  s3_object_version              = local.image ? null : var.s3_object_version
  source_code_hash               = local.image ? null : var.source_code_hash
  layers                         = local.image ? null : var.layers
  architectures                  = [var.architecture]
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = var.kms_key_arn
  tags                           = var.tags

  environment {
    variables = var.environment
  }

  tracing_config {
    mode = "Active"
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dlq.arn
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  dynamic "image_config" {
    for_each = local.image ? [1] : []
    content {
      command = [var.handler]
    }
  }

  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
}

# Asynchronous invocations (schedules) retry twice, then land in the dead-letter queue.
resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = var.schedule_max_event_age_seconds
}

# ---------------------------------------------------------------- trigger: schedule
resource "aws_iam_role" "scheduler" {
  count       = var.trigger == "schedule" ? 1 : 0
  name        = "${var.function_name}-schedule"
  description = "EventBridge Scheduler role invoking ${var.function_name}"
  tags        = var.tags
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "scheduler.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account } }
    }]
  })
}

# permissions.SERVICE_ROLE_COMPONENTS["schedule"]: invoke, dead_letter, kms_lake
data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "invoke"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.this.arn, "${aws_lambda_function.this.arn}:*"]
  }

  statement {
    sid       = "deadletter"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]
  }

  statement {
    sid       = "kmslake"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  count  = var.trigger == "schedule" ? 1 : 0
  name   = "invoke-${var.function_name}"
  role   = aws_iam_role.scheduler[0].id
  policy = data.aws_iam_policy_document.scheduler.json
}

resource "aws_scheduler_schedule" "this" {
  count                        = var.trigger == "schedule" ? 1 : 0
  name                         = var.function_name
  description                  = "Runs ${var.function_name}"
  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = var.schedule_timezone
  kms_key_arn                  = var.kms_key_arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.this.arn
    role_arn = aws_iam_role.scheduler[0].arn
    input    = var.schedule_input

    retry_policy {
      maximum_event_age_in_seconds = var.schedule_max_event_age_seconds
      maximum_retry_attempts       = var.schedule_max_retries
    }

    dead_letter_config {
      arn = aws_sqs_queue.dlq.arn
    }
  }
}

# ---------------------------------------------------------------- trigger: function URL
resource "aws_lambda_function_url" "this" {
  count              = var.trigger == "url" ? 1 : 0
  function_name      = aws_lambda_function.this.function_name
  authorization_type = var.url_auth_type
  invoke_mode        = "BUFFERED"
}

resource "aws_lambda_permission" "url" {
  for_each               = var.trigger == "url" && var.url_auth_type == "AWS_IAM" ? toset(var.url_invoker_arns) : toset([])
  statement_id           = "InvokeUrl${substr(sha1(each.value), 0, 12)}"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.this.function_name
  principal              = each.value
  function_url_auth_type = "AWS_IAM"
}

# Since October 2025 a function URL call needs lambda:InvokeFunction too, granted only for calls
# that arrive through the URL (invoked_via_function_url; the aws provider documents it in 6.42).
resource "aws_lambda_permission" "url_invoke" {
  for_each                 = var.trigger == "url" && var.url_auth_type == "AWS_IAM" ? toset(var.url_invoker_arns) : toset([])
  statement_id             = "InvokeViaUrl${substr(sha1(each.value), 0, 12)}"
  action                   = "lambda:InvokeFunction"
  function_name            = aws_lambda_function.this.function_name
  principal                = each.value
  invoked_via_function_url = true
}

resource "aws_lambda_permission" "public_url" {
  #checkov:skip=CKV_AWS_301:Created only when url_auth_type = NONE is chosen explicitly; the collector then authenticates every request with its HMAC signature check (docs/deploy.md).
  count                  = var.trigger == "url" && var.url_auth_type == "NONE" ? 1 : 0
  statement_id           = "InvokeUrlPublicHmacChecked"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.this.function_name
  principal              = "*"
  function_url_auth_type = "NONE"
}

resource "aws_lambda_permission" "public_url_invoke" {
  #checkov:skip=CKV_AWS_301:Created only when url_auth_type = NONE is chosen explicitly, and only for calls through the function URL; the collector then authenticates every request with its HMAC signature check (docs/deploy.md).
  count                    = var.trigger == "url" && var.url_auth_type == "NONE" ? 1 : 0
  statement_id             = "InvokeViaUrlPublicHmacChecked"
  action                   = "lambda:InvokeFunction"
  function_name            = aws_lambda_function.this.function_name
  principal                = "*"
  invoked_via_function_url = true
}
