terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 6.42" } # invoked_via_function_url (documented in 6.42)
  }
}
