terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.42, < 7.0" # invoked_via_function_url (documented in 6.42)
    }
    archive = {
      source  = "hashicorp/archive"
      version = ">= 2.4, < 3.0"
    }
  }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = merge({ "app" = "cascadeflow-cloud", "deployment" = var.name }, var.tags)
  }
}
