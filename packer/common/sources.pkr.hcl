# Two ways to run the same bake. Everything here is accepted by Packer 1.6.6; the arguments
# Packer 1.6.6 rejects (metadata_options, imds_support, deprecate_at) are added to the `aws`
# source by packer-1.7/build.pkr.hcl, which ebami uses only with Packer 1.7 or newer.

# Real AWS: the builder runs the user data, Packer connects once cloud-init is done, checks
# ecs.config with the agent's rules and cleans the image before the snapshot.
source "amazon-ebs" "aws" {
  region               = var.region
  source_ami           = var.source_ami
  instance_type        = var.instance_type
  subnet_id            = var.subnet_id
  vpc_id               = var.vpc_id
  iam_instance_profile = var.iam_instance_profile
  user_data_file       = var.user_data_file

  communicator                          = "ssh"
  ssh_username                          = var.ssh_username
  ssh_interface                         = var.communicator == "session_manager" ? "session_manager" : ""
  temporary_security_group_source_cidrs = var.ssh_source_cidrs
  # Session Manager needs the builder's agent to reach SSM: without a profile of the user's,
  # Packer makes a temporary one with just these permissions and deletes it afterwards.
  dynamic "temporary_iam_instance_profile_policy_document" {
    for_each = var.communicator == "session_manager" && var.iam_instance_profile == "" ? [1] : []
    content {
      Version = "2012-10-17"
      Statement {
        Effect   = "Allow"
        Action   = ["ssm:UpdateInstanceInformation", "ssmmessages:*", "ec2messages:*"]
        Resource = ["*"]
      }
    }
  }

  ami_name        = var.ami_name
  ami_description = var.ami_description
  ami_regions     = var.ami_regions
  ami_users       = var.ami_users
  encrypt_boot    = var.encrypt_boot
  kms_key_id      = var.kms_key_id
  tags            = var.tags
  snapshot_tags   = var.tags
  run_tags        = var.run_tags
  run_volume_tags = var.run_tags
}

# The ebami sandbox (or another EC2 emulator): no communicator and no provisioners; the
# emulator boots the user data itself and CreateImage snapshots the result.
source "amazon-ebs" "sandbox" {
  region                     = var.region
  source_ami                 = var.source_ami
  instance_type              = var.instance_type
  user_data_file             = var.user_data_file
  communicator               = "none"
  custom_endpoint_ec2        = var.ec2_endpoint
  skip_region_validation     = true
  skip_credential_validation = true
  skip_metadata_api_check    = true
  # Like AWS, the sandbox answers NotFound for a moment after a create (ebami.sandbox.realism);
  # Packer's waiters retry it, by default after 15 s. A local emulator answers at once: poll
  # each second (as long as Packer's own default for AMIs, 120 polls).
  aws_polling {
    delay_seconds = 1
    max_attempts  = 120
  }

  ami_name        = var.ami_name
  ami_description = var.ami_description
  ami_regions     = var.ami_regions
  ami_users       = var.ami_users
  tags            = var.tags
  snapshot_tags   = var.tags
  run_tags        = var.run_tags
  run_volume_tags = var.run_tags
}
