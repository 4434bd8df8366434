# The smallest amazon-ebs build the sandbox must serve: communicator none, user data only.
variable "endpoint" { type = string }
variable "source_ami" { type = string }
variable "user_data_file" { type = string }
variable "ami_name" { type = string }
source "amazon-ebs" "sandbox" {
  region                      = "us-east-1"
  source_ami                  = var.source_ami
  instance_type               = "t3.micro"
  ami_name                    = var.ami_name
  communicator                = "none"
  custom_endpoint_ec2         = var.endpoint
  skip_region_validation      = true
  skip_credential_validation  = true
  skip_metadata_api_check     = true
  user_data_file              = var.user_data_file
}
build {
  sources = ["source.amazon-ebs.sandbox"]
  post-processor "manifest" { output = "manifest.json" }
}
