#!/bin/sh
# Waits until cloud-init has run the user data on the builder (it writes boot-finished last).
# Amazon Linux 1's cloud-init has no `cloud-init status --wait`, so the marker file is polled.
set -eu
timeout=${CLOUD_INIT_TIMEOUT_SECONDS:-900}
waited=0
while [ ! -f /var/lib/cloud/instance/boot-finished ]; do
  if [ "$waited" -ge "$timeout" ]; then
    echo "ebami: cloud-init did not finish within ${timeout}s; its log follows" >&2
    sudo tail -n 50 /var/log/cloud-init-output.log >&2 || true
    exit 1
  fi
  if [ $((waited % 30)) -eq 0 ]; then
    echo "ebami: waiting for cloud-init to finish (${waited}s of ${timeout}s)"
  fi
  sleep 5
  waited=$((waited + 5))
done
# cloud-init 18.x and newer record failed modules in result.json; a failed runcmd means the
# drivers line may be missing, which the ecs.config check below then shows.
if [ -f /var/lib/cloud/data/result.json ]; then
  cat /var/lib/cloud/data/result.json
fi
echo "ebami: cloud-init finished"
