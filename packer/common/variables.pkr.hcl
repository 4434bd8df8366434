# The inputs of an ebami bake. `ebami build` writes them to a var file; `ebami build --dry-run`
# prints the values it would pass.

variable "region" {
  type        = string
  description = "The region the builder instance runs in and the AMI is registered in."
}

variable "source_ami" {
  type        = string
  description = "The Elastic Beanstalk platform's base AMI to bake from."
}

variable "instance_type" {
  type    = string
  default = "t3.micro"
}

variable "subnet_id" {
  type        = string
  default     = ""
  description = "Subnet of the builder; empty lets Packer use the default VPC."
}

variable "vpc_id" {
  type    = string
  default = ""
}

variable "ami_name" {
  type = string
}

variable "ami_description" {
  type    = string
  default = ""
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Provenance tags of the AMI and its snapshots (in every region it is copied to)."
}

variable "run_tags" {
  type        = map(string)
  default     = {}
  description = "Tags of the temporary builder instance and its volumes."
}

variable "user_data_file" {
  type        = string
  description = "The cloud-config rendered by ebami; it runs once, on the builder."
}

variable "ec2_endpoint" {
  type        = string
  default     = ""
  description = "An EC2 endpoint other than AWS's (the ebami sandbox); used by the sandbox source."
}

variable "communicator" {
  type        = string
  default     = "ssh"
  description = "How Packer reaches the builder: ssh, or session_manager (needs an SSM agent)."
}

variable "ssh_username" {
  type    = string
  default = "ec2-user"
}

variable "ssh_source_cidrs" {
  type        = list(string)
  default     = []
  description = "CIDRs allowed to reach the builder over SSH; empty means Packer's default, 0.0.0.0/0."
}

variable "iam_instance_profile" {
  type        = string
  default     = ""
  description = "Instance profile of the builder; with session_manager and none given, Packer makes a temporary one."
}

variable "encrypt_boot" {
  type    = bool
  default = false
}

variable "kms_key_id" {
  type        = string
  default     = ""
  description = "KMS key for the encrypted AMI; empty uses the account's default EBS key."
}

variable "ami_regions" {
  type        = list(string)
  default     = []
  description = "Regions to copy the AMI to, besides its own."
}

variable "ami_users" {
  type        = list(string)
  default     = []
  description = "Account ids the AMI is shared with; AMIs are private by default."
}

variable "cloud_init_timeout_seconds" {
  type    = number
  default = 900
}

variable "ecs_config_check" {
  type        = string
  default     = "false"
  description = "Command run on the Packer host to judge the builder's ecs.config files (downloaded to ecs-config/)."
}

variable "manifest_file" {
  type    = string
  default = "manifest.json"
}

variable "deprecate_at" {
  type        = string
  default     = null
  description = "RFC 3339 time at which the AMI is deprecated (Packer 1.7 or newer)."
}

variable "imds_support" {
  type        = string
  default     = null
  description = "\"v2.0\" makes instances of the AMI require IMDSv2 (Packer 1.7 or newer); only where the platform's agent supports it."
}
