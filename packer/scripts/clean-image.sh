#!/bin/sh
# Runs as root as the last step before the snapshot: removes what must not be shared by every
# instance launched from the AMI.
set -eu
# The temporary SSH key Packer installed, and the host keys (each instance makes its own).
rm -f /root/.ssh/authorized_keys /home/*/.ssh/authorized_keys
rm -f /etc/ssh/ssh_host_*
# cloud-init's state and logs, so that the next boot is a first boot with fresh logs.
if cloud-init clean --help >/dev/null 2>&1; then
  cloud-init clean --logs
else
  rm -rf /var/lib/cloud/instance /var/lib/cloud/instances/* /var/lib/cloud/sem/*
  rm -f /var/log/cloud-init.log /var/log/cloud-init-output.log
fi
# The ECS agent's state, in case the agent ran on the builder: a new instance must register
# as itself, not resume the builder's container instance.
rm -rf /var/lib/ecs/data/*
# A machine id shared by every instance confuses systemd and journald (AL2 and AL2023).
if [ -f /etc/machine-id ]; then
  truncate -s 0 /etc/machine-id
fi
rm -f /var/lib/dbus/machine-id
rm -f /tmp/ebami-ecs-config/*
echo "ebami: image cleaned"
