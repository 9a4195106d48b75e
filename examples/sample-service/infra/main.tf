terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.70"
    }
  }
  backend "s3" {
    bucket         = "example-terraform-state"
    key            = "orders-api/terraform.tfstate"
    region         = "eu-west-1"
    dynamodb_table = "terraform-locks"
    encrypt        = true
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "environment" {
  type = string
}

variable "db_instance_class" {
  type    = string
  default = "db.t4g.small"
}

resource "aws_db_instance" "orders" {
  identifier                  = "orders-${var.environment}"
  engine                      = "postgres"
  engine_version              = "16.4"
  instance_class              = var.db_instance_class
  allocated_storage           = 20
  storage_encrypted           = true
  username                    = "orders"
  manage_master_user_password = true
  backup_retention_period     = 7
  backup_window               = "02:00-03:00"
  deletion_protection         = true
  skip_final_snapshot         = false
  final_snapshot_identifier   = "orders-${var.environment}-final"

  tags = {
    service     = "orders-api"
    environment = var.environment
    owner       = "orders-team"
  }
}

resource "aws_s3_bucket" "exports" {
  bucket = "example-orders-exports-${var.environment}"

  tags = {
    service     = "orders-api"
    environment = var.environment
  }
}

resource "aws_s3_bucket_public_access_block" "exports" {
  bucket                  = aws_s3_bucket.exports.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
