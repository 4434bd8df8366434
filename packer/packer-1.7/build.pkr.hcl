# The bake for Packer 1.7 and newer: the amazon plugin is declared (run `packer init` first),
# and the real-AWS builder requires IMDSv2. Packer 1.6.6 rejects everything in the nested
# `source` block below, which is why this file is separate from packer-1.6/build.pkr.hcl. Keep
# the provisioners of the two files in step.

packer {
  required_version = ">= 1.7.0"
  required_plugins {
    amazon = {
      version = ">= 1.2.0"
      source  = "github.com/hashicorp/amazon"
    }
  }
}

build {
  sources = ["source.amazon-ebs.sandbox"]

  # Adds to the `aws` source of common/sources.pkr.hcl what only Packer 1.7+ knows.
  source "amazon-ebs.aws" {
    metadata_options {
      http_endpoint               = "enabled"
      http_tokens                 = "required"
      http_put_response_hop_limit = 1
    }
    imds_support = var.imds_support
    deprecate_at = var.deprecate_at
  }

  provisioner "shell" {
    only             = ["amazon-ebs.aws"]
    environment_vars = ["CLOUD_INIT_TIMEOUT_SECONDS=${var.cloud_init_timeout_seconds}"]
    scripts          = ["${path.root}/scripts/wait-for-cloud-init.sh", "${path.root}/scripts/collect-ecs-config.sh"]
  }
  provisioner "file" {
    only        = ["amazon-ebs.aws"]
    direction   = "download"
    source      = "/tmp/ebami-ecs-config/var-lib-ecs.config"
    destination = "ecs-config/var-lib-ecs.config"
  }
  provisioner "file" {
    only        = ["amazon-ebs.aws"]
    direction   = "download"
    source      = "/tmp/ebami-ecs-config/etc-ecs.config"
    destination = "ecs-config/etc-ecs.config"
  }
  provisioner "shell-local" {
    only   = ["amazon-ebs.aws"]
    inline = [var.ecs_config_check]
  }
  provisioner "shell" {
    only            = ["amazon-ebs.aws"]
    execute_command = "chmod +x {{ .Path }}; sudo env {{ .Vars }} {{ .Path }}"
    script          = "${path.root}/scripts/clean-image.sh"
  }

  post-processor "manifest" {
    output     = var.manifest_file
    strip_path = true
  }
}
