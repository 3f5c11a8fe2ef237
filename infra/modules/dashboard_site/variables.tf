variable "name" {
  description = "Deployment name: prefixes every resource of the dashboard site."
  type        = string
}

variable "log_bucket_name" {
  description = "Bucket receiving the site bucket's S3 server access logs (the lake module's log bucket)."
  type        = string
}

variable "price_class" {
  description = "CloudFront price class (PriceClass_100: North America and Europe edges, the cheapest)."
  type        = string
  default     = "PriceClass_100"
  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.price_class)
    error_message = "price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "web_acl_id" {
  description = "ARN of a WAFv2 web ACL (CLOUDFRONT scope, us-east-1) attached to the distribution, for example an IP allow list; null attaches none and anyone with the URL can open the site."
  type        = string
  default     = null
}

variable "log_bucket_domain" {
  description = "Domain name (bucket.s3.amazonaws.com) of a bucket with ACLs enabled for CloudFront standard access logs; null turns logging off."
  type        = string
  default     = null
}

variable "acm_certificate_arn" {
  description = "ACM certificate (us-east-1) for the aliases; null serves the cloudfront.net domain with its default certificate."
  type        = string
  default     = null
}

variable "aliases" {
  description = "Custom domain names of the site (need acm_certificate_arn)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags added to every resource of the site."
  type        = map(string)
  default     = {}
}
