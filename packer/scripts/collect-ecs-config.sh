#!/bin/sh
# Copies the ECS agent's two configuration files to where Packer downloads them from, so that
# ebami can judge them on the Packer host with the agent's own rules. A missing file is an
# empty one for ecs-init.
set -eu
mkdir -p /tmp/ebami-ecs-config
sudo cat /var/lib/ecs/ecs.config > /tmp/ebami-ecs-config/var-lib-ecs.config 2>/dev/null || :
sudo cat /etc/ecs/ecs.config > /tmp/ebami-ecs-config/etc-ecs.config 2>/dev/null || :
