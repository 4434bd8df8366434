# The bake for Packer 1.6.x, which has the amazon builder built in and no `packer {}` block.
# It cannot require IMDSv2 on the builder (metadata_options arrived with Packer 1.7); ebami
# says so when it runs this file. Keep the provisioners in step with packer-1.7/build.pkr.hcl.

build {
  sources = ["source.amazon-ebs.aws", "source.amazon-ebs.sandbox"]

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
