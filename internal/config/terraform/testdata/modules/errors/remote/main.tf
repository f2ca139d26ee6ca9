module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.0.0"
}

module "alerts" {
  source = "git::https://example.com/alerts.git?ref=v1"
}

module "web" {
  source = "https://example.com/alerts.zip"
}
