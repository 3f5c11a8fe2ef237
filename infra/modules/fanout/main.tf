# Fan-out past one invocation: a schedule starts a Step Functions execution that asks the function
# for a plan ({"fanout": "plan", "input": ...}), then runs each shard it returns as its own
# invocation ({"fanout": "shard", "shard": ...}) in an inline Map state. A function that returns no
# "shards" key has done the whole job in the plan call and the execution ends there.

data "aws_caller_identity" "current" {}

locals {
  account = data.aws_caller_identity.current.account_id
  retry = [{
    ErrorEquals     = ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"]
    IntervalSeconds = 5
    MaxAttempts     = 4
    BackoffRate     = 2
    JitterStrategy  = "FULL"
  }]
  definition = {
    Comment = "Plan shards, then run each shard as a separate invocation"
    StartAt = "Plan"
    States = {
      Plan = {
        Type           = "Task"
        Resource       = "arn:aws:states:::lambda:invoke"
        Parameters     = { FunctionName = var.function_arn, Payload = { fanout = "plan", "input.$" = "$" } }
        ResultSelector = { "result.$" = "$.Payload" }
        ResultPath     = "$.plan"
        Retry          = local.retry
        Next           = "HasShards"
      }
      HasShards = {
        Type    = "Choice"
        Choices = [{ Variable = "$.plan.result.shards", IsPresent = true, Next = "Shards" }]
        Default = "Done"
      }
      Shards = {
        Type           = "Map"
        ItemsPath      = "$.plan.result.shards"
        MaxConcurrency = var.max_concurrency
        ItemSelector   = { fanout = "shard", "shard.$" = "$$.Map.Item.Value" }
        ItemProcessor = {
          ProcessorConfig = { Mode = "INLINE" }
          StartAt         = "RunShard"
          States = {
            RunShard = {
              Type       = "Task"
              Resource   = "arn:aws:states:::lambda:invoke"
              Parameters = { FunctionName = var.function_arn, "Payload.$" = "$" }
              OutputPath = "$.Payload"
              Retry      = local.retry
              End        = true
            }
          }
        }
        ResultPath = null
        End        = true
      }
      Done = { Type = "Succeed" }
    }
  }
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/vendedlogs/states/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_iam_role" "machine" {
  name        = "${var.name}-sfn"
  description = "Fan-out state machine ${var.name}"
  tags        = var.tags
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "states.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account } }
    }]
  })
}

# permissions.SERVICE_ROLE_COMPONENTS["fanout"]: invoke, log_delivery, xray, xray_sampling, kms_lake
data "aws_iam_policy_document" "machine" {
  statement {
    sid       = "invoke"
    actions   = ["lambda:InvokeFunction"]
    resources = [var.function_arn, "${var.function_arn}:*"]
  }

  statement {
    sid = "logdelivery"
    actions = [
      "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "xray"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  statement {
    sid       = "xraysampling"
    actions   = ["xray:GetSamplingRules", "xray:GetSamplingTargets"]
    resources = ["*"]
  }

  statement {
    sid       = "kmslake"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "machine" {
  name   = "fanout"
  role   = aws_iam_role.machine.id
  policy = data.aws_iam_policy_document.machine.json
}

resource "aws_sfn_state_machine" "this" {
  name       = var.name
  role_arn   = aws_iam_role.machine.arn
  type       = "STANDARD"
  definition = jsonencode(local.definition)
  tags       = var.tags

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.this.arn}:*"
    include_execution_data = true
    level                  = "ERROR"
  }

  tracing_configuration {
    enabled = true
  }

  encryption_configuration {
    type                              = "CUSTOMER_MANAGED_KMS_KEY"
    kms_key_id                        = var.kms_key_arn
    kms_data_key_reuse_period_seconds = 300
  }

  depends_on = [aws_iam_role_policy.machine]
}

# ---------------------------------------------------------------- the schedule that starts it
resource "aws_iam_role" "scheduler" {
  name        = "${var.name}-schedule"
  description = "EventBridge Scheduler role starting ${var.name}"
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

# permissions.SERVICE_ROLE_COMPONENTS["fanout_schedule"]: start_fanout, dead_letter, kms_lake
data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "startfanout"
    actions   = ["states:StartExecution"]
    resources = [aws_sfn_state_machine.this.arn]
  }

  statement {
    sid       = "deadletter"
    actions   = ["sqs:SendMessage"]
    resources = [var.dlq_arn]
  }

  statement {
    sid       = "kmslake"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "start-${var.name}"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

resource "aws_scheduler_schedule" "this" {
  name                         = var.name
  description                  = "Starts the fan-out ${var.name}"
  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = var.schedule_timezone
  kms_key_arn                  = var.kms_key_arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_sfn_state_machine.this.arn
    role_arn = aws_iam_role.scheduler.arn
    input    = var.schedule_input

    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = 3
    }

    dead_letter_config {
      arn = var.dlq_arn
    }
  }
}
