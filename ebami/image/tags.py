"""The names of every tag ebami writes or reads: one place, so that build, verify, apply and
the lifecycle commands agree on them. They are read in one place too: `ebami.image.managed`."""

from __future__ import annotations

PREFIX = "ebami:"
# On everything ebami creates.
MANAGED = "ebami:managed"
# Provenance of a baked AMI and its snapshots.
BAKE_KEY = "ebami:bake-key"
BASE_AMI = "ebami:base-ami"
PLATFORM = "ebami:platform"
PLATFORM_ARN = "ebami:platform-arn"
PLATFORM_VERSION = "ebami:platform-version"
RELEASE = "ebami:release"
DRIVERS = "ebami:drivers"
# Whether instances of the AMI run the SSM agent ("yes"/"no"), which `ebami verify` needs.
SSM_AGENT = "ebami:ssm-agent"
USER_DATA_SHA256 = "ebami:user-data-sha256"
VERSION = "ebami:version"
# The `ebami build` run that made the AMI, its snapshots and its builder instance: a failed
# run removes what carries its own run id, never another run's image.
BUILD_RUN = "ebami:build-run"
# Set in GitHub Actions: the commit and the run that built the AMI.
GIT_SHA = "ebami:git-sha"
RUN_URL = "ebami:run-url"
# Written by `ebami verify` on an AMI that passed every check.
VERIFIED = "ebami:verified"
VERIFIED_CHECKS = "ebami:verified-checks"
# On a copy of a verified AMI in another region (same bake key): `REGION/AMI` that passed.
VERIFIED_COPY_OF = "ebami:verified-copy-of"
# On an AMI no environment may be switched to any more (`ebami apply` refuses it).
REVOKED = "ebami:revoked"
# Why and when (ISO 8601, UTC) `ebami revoke` revoked it.
REVOKED_REASON = "ebami:revoked-reason"
REVOKED_AT = "ebami:revoked-at"
# On an Elastic Beanstalk environment: the AMI it ran before `ebami apply` switched it, its
# rollback target (`ebami apply --rollback`), which no prune may remove.
PREVIOUS_IMAGE_ID = "ebami:previous-image-id"
# On an AMI whose EC2 deregistration protection ebami turned on: what for (`apply prod`,
# `channel stable`, ...). Protection without it was turned on by someone else, and ebami leaves
# it alone.
PROTECTED_FOR = "ebami:protected-for"
# On verify's throwaway instance: what it is for and the run that launched it.
PURPOSE = "ebami:purpose"
VERIFY_RUN = "ebami:verify-run"


def reserved(key: str) -> bool:
    """Keys the user's own tags may not take: ebami's provenance and AWS's own."""
    return key.startswith(PREFIX) or key.lower().startswith("aws:")
