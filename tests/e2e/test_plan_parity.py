"""`--dry-run` shows the very plan the real run executes: the same instructions, in the same
order, with the same progress messages (the real CLI, the real packer, the sandbox)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from ebami.sandbox import world
from tests.sandbox_helpers import Sandbox
from tests.support.runs import build, ebami_command

# AMI names carry the second they were planned in; two runs may fall in different seconds.
_STAMP = re.compile(r"\d{8}T\d{6}Z")


def _unstamped(text: str) -> str:
    return _STAMP.sub("<time>", text)


def test_the_build_executes_the_plan_its_dry_run_shows(sandbox: Sandbox, tmp_path: Path) -> None:
    args = ("--release", "2017.09", "--force", "--ssm-parameter", "/ebami/parity")
    dry = build(sandbox, "--dry-run", *args, cwd=tmp_path, env={"EBAMI_OUTPUT": "json"})
    assert dry.returncode == 0, dry.stderr
    shown = json.loads(dry.stdout)
    assert shown["dry_run"] is True
    planned = [item["action"] for item in shown["instructions"]]
    assert planned == ["acquire_lease", "bake", "tag_image", "publish_parameter"]
    assert [item["action"] for item in shown["cleanup"]] == ["discard_unfinished", "release_lease"]
    assert shown["facts"]["Packer source"] == "amazon-ebs.sandbox"

    real = build(sandbox, *args, cwd=tmp_path)
    assert real.returncode == 0, real.stderr
    said = [_unstamped(line) for line in real.stderr.splitlines()]
    positions = [said.index(_unstamped(item["message"])) for item in shown["instructions"]]
    assert positions == sorted(positions), said  # every planned step ran, in the plan's order
    (bake,) = [item for item in shown["instructions"] if item["action"] == "bake"]
    record_variables = bake["params"]["variables"]
    assert record_variables["source_ami"] in real.stderr


def test_verify_executes_the_plan_its_dry_run_shows(sandbox: Sandbox, tmp_path: Path) -> None:
    built = build(sandbox, "--release", "2017.09", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    image_id = built.stdout.strip()
    verify = [*ebami_command("verify", "--ami", image_id, "--instance-profile", world.EC2_ROLE)]
    env = {**os.environ, **sandbox.env()}
    dry = subprocess.run(
        [*verify[:3], "-o", "json", *verify[3:], "--dry-run"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    shown = json.loads(dry.stdout)
    assert [i["action"] for i in shown["instructions"]] == [
        "launch", "check_launched", "tag_verified",
    ]  # fmt: skip
    assert [i["action"] for i in shown["cleanup"]] == ["terminate"]
    real = subprocess.run(
        verify, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert real.returncode == 0, real.stderr
    said = real.stderr.splitlines()
    # The run tag differs per run (a fresh run id): compare the messages up to it.
    messages = [i["message"].split(" (ebami:verify-run=")[0] for i in shown["instructions"]]
    messages.append(shown["cleanup"][0]["message"].split(" (ebami:verify-run=")[0])
    positions = [
        next(n for n, line in enumerate(said) if line.startswith(message)) for message in messages
    ]
    assert positions == sorted(positions), said
