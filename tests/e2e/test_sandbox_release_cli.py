"""`ebami sandbox release` against a running sandbox, as the nightly job's tests use it: AWS
ships a new base AMI, and `ebami lookup` (a separate process, over HTTP) finds it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from ebami.sandbox import world
from tests.sandbox_helpers import SandboxFactory


def ebami(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ebami", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_released_base_ami_is_what_lookup_finds(make_sandbox: SandboxFactory) -> None:
    sandbox = make_sandbox()
    env = sandbox.env()
    before = ebami("-o", "json", "lookup", "--release", "2017.09", env=env)
    assert before.returncode == 0, before.stderr
    assert json.loads(before.stdout)["platform_version"] == "2.8.4"

    released = ebami("sandbox", "release", "--dir", str(sandbox.directory), "--release", "2017.09")

    assert released.returncode == 0, released.stderr
    match = re.fullmatch(
        rf"released {re.escape(world.MULTICONTAINER_DOCKER)} 2\.8\.5 \(OS 2017\.09\): "
        r"base AMI (ami-[0-9a-f]{17})\n",
        released.stdout,
    )
    assert match, released.stdout
    image_id = match.group(1)
    assert image_id != json.loads(before.stdout)["image_id"]
    assert sandbox.image_root(image_id).joinpath("etc/system-release").is_file()

    after = ebami("-o", "json", "lookup", "--release", "2017.09", env=env)
    assert after.returncode == 0, after.stderr
    found = json.loads(after.stdout)
    assert (found["image_id"], found["platform_version"]) == (image_id, "2.8.5")
    assert found["lifecycle_state"] == "Recommended"

    # With -o json, the route's answer; the next release follows the last.
    again = ebami(
        "-o", "json", "sandbox", "release", "--dir", str(sandbox.directory),
        "--platform", world.MULTICONTAINER_DOCKER, "--release", "2017.09",
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    document = json.loads(again.stdout)
    assert document["platform_version"] == "2.8.6"
    assert document["platform_arn"].endswith("/2.8.6")

    refused = ebami("sandbox", "release", "--dir", str(sandbox.directory), "--release", "2016.09")
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr == (
        "error: multicontainer-docker has no platform version on release 2016.09 in us-east-1 "
        "to follow; its releases there: 2017.09, 2018.03\n"
    )
