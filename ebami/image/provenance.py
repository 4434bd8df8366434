"""What identifies a baked AMI: its bake key and the provenance tags it carries.

The bake key is a hash of everything that decides the image's content: the base AMI, the
rendered user data, ebami's Packer template files and the options that change the artifact
(region, encryption, copies). Two builds with the same key make the same image, so a nightly
run that finds an available AMI carrying its key has nothing to do.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ebami import __version__
from ebami.core.errors import InputError
from ebami.image import tags
from ebami.image.lookup import BaseAmi
from ebami.image.userdata import SSM_AGENT_RPM_URL, UserData

# Bump when the meaning of the inputs changes, so that old keys no longer match.
BAKE_KEY_SCHEME = 1
# EC2 limits: 50 tags per resource, keys of at most 128 characters, values of at most 256.
MAX_TAGS = 50
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256


@dataclass(frozen=True)
class BakeKey:
    value: str
    inputs: Mapping[str, Any]

    @classmethod
    def of(
        cls,
        *,
        base_ami: str,
        region: str,
        user_data: UserData,
        templates_digest: str,
        image_options: Mapping[str, Any],
    ) -> BakeKey:
        inputs = {
            "scheme": BAKE_KEY_SCHEME,
            "base_ami": base_ami,
            "region": region,
            "user_data_sha256": user_data.sha256,
            "templates_sha256": templates_digest,
            "image_options": dict(sorted(image_options.items())),
        }
        canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":"))
        return cls(hashlib.sha256(canonical.encode()).hexdigest(), inputs)


def ci_run(environ: Mapping[str, str]) -> dict[str, str]:
    """The commit and run URL when running in GitHub Actions; empty elsewhere."""
    if environ.get("GITHUB_ACTIONS") != "true":
        return {}
    found: dict[str, str] = {}
    if environ.get("GITHUB_SHA"):
        found[tags.GIT_SHA] = environ["GITHUB_SHA"]
    server, repository, run_id = (
        environ.get("GITHUB_SERVER_URL", "https://github.com"),
        environ.get("GITHUB_REPOSITORY"),
        environ.get("GITHUB_RUN_ID"),
    )
    if repository and run_id:
        found[tags.RUN_URL] = f"{server}/{repository}/actions/runs/{run_id}"
    return found


def check_extra_tags(extra: Mapping[str, str]) -> None:
    """The user's own tags: what EC2 accepts, and never posing as ebami's provenance (or AWS's).

    Checked when the options are made, so that a tag EC2 would refuse stops the build before
    anything is baked, not at the tagging after it.
    """
    for key, value in extra.items():
        if not key.strip():
            raise InputError(f"tag {key!r} has an empty key; give KEY=VALUE such as team=platform")
        if tags.reserved(key):
            raise InputError(
                f"tag {key!r} uses a reserved prefix (ebami: or aws:); pick another key"
            )
        if len(key) > MAX_TAG_KEY:
            raise InputError(
                f"tag key {key[:40]!r}... is {len(key)} characters, longer than EC2's "
                f"{MAX_TAG_KEY}: shorten it"
            )
        if len(value) > MAX_TAG_VALUE:
            raise InputError(f"tag {key!r} is longer than EC2's {MAX_TAG_VALUE} characters")


def has_ssm_agent(user_data: UserData) -> bool:
    """Whether instances booted from this user data's image run the SSM agent."""
    return user_data.platform.base_ami_has_ssm_agent or SSM_AGENT_RPM_URL in user_data.packages


def provenance_tags(
    *,
    base: BaseAmi,
    user_data: UserData,
    bake_key: BakeKey,
    ami_name: str,
    environ: Mapping[str, str],
    extra: Mapping[str, str],
    run_id: str = "",
) -> dict[str, str]:
    """The tags of the AMI and its snapshots: the user's, then ebami's. `run_id`: the build
    run that makes them (`ebami:build-run`), if one does."""
    check_extra_tags(extra)
    ours = {
        "Name": ami_name,
        tags.MANAGED: "true",
        tags.BAKE_KEY: bake_key.value,
        tags.BASE_AMI: base.image_id,
        tags.PLATFORM: base.platform,
        tags.PLATFORM_ARN: base.platform_arn,
        tags.PLATFORM_VERSION: base.platform_version,
        tags.RELEASE: user_data.release or "",
        # EC2 allows commas in values, other services' tag rules do not: spaces are safe.
        tags.DRIVERS: " ".join(user_data.drivers),
        tags.SSM_AGENT: "yes" if has_ssm_agent(user_data) else "no",
        tags.USER_DATA_SHA256: user_data.sha256,
        tags.VERSION: __version__,
        tags.BUILD_RUN: run_id,
        **ci_run(environ),
    }
    merged = {**extra, **{key: value for key, value in ours.items() if value}}
    if len(merged) > MAX_TAGS:
        raise InputError(f"{len(merged)} tags with ebami's own; EC2 allows {MAX_TAGS}: drop some")
    long = [key for key, value in merged.items() if len(value) > MAX_TAG_VALUE]
    if long:
        raise InputError(f"tag {long[0]!r} is longer than EC2's {MAX_TAG_VALUE} characters")
    return merged
