output "cur2_export_arn" {
  description = "ARN of the CUR 2.0 export."
  value       = aws_bcmdataexports_export.cur2.arn
}

output "focus_export_arn" {
  description = "ARN of the FOCUS 1.2 export (null when include_focus is false)."
  value       = var.include_focus ? aws_bcmdataexports_export.focus[0].arn : null
}

output "ingest_urls" {
  description = "What to pass to cascadeflow-cloud ingest export, one URL per export."
  value = concat(["s3://${var.bucket_name}/${var.prefix}/${var.name}-cur2/"],
  var.include_focus ? ["s3://${var.bucket_name}/${var.prefix}/${var.name}-focus12/"] : [])
}

output "bucket_name" {
  description = "Name of the export bucket."
  value       = aws_s3_bucket.exports.id
}
