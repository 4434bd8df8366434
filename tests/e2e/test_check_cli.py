"""`ebami check` as a user (and the nightly job) runs it: it agrees with `ebami build` because it
is build's own planner, costs four calls when nothing is new, and notices when AWS ships a new
base AMI (`ebami sandbox release`)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from ebami.sandbox.release import release_platform
from tests.sandbox_helpers import Sandbox, SandboxFactory
from tests.support.runs import api_calls, build, ebami_command

MUTATING = ("Run", "Create", "Update", "Put", "Delete", "Deregister", "Terminate", "Modify")


def check(
    sandbox: Sandbox, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ebami_command("-o", "json", "check", "--release", "2017.09", *args),
        cwd=cwd,
        env={**os.environ, **sandbox.env(), "EBAMI_STATS": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def verdict(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_check_and_build_agree_through_a_new_base_ami(
    make_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = make_sandbox()

    # Nothing built yet: a build is needed, and --exit-code says so to shells.
    first = check(sandbox, "--exit-code", cwd=tmp_path)
    assert first.returncode == 10, first.stderr
    assert verdict(first)["build_needed"] is True
    assert verdict(first)["replaces"] is None
    assert "error: build needed: base AMI " in first.stderr

    built = build(sandbox, "--release", "2017.09", "--record", "first.json", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    record = json.loads((tmp_path / "first.json").read_text())

    # Up to date: the very bake key build computed, three calls (and the verdict on the base
    # AMI: is a custom AMI still needed?), nothing launched or changed.
    # (Not verified yet: that is still something to do, so --exit-code says 10.)
    second = check(sandbox, "--exit-code", cwd=tmp_path)
    assert second.returncode == 10, second.stderr
    up_to_date = verdict(second)
    assert up_to_date["build_needed"] is False
    assert up_to_date["verify_needed"] is True
    assert up_to_date["bake_key"] == record["bake_key"]
    assert up_to_date["existing_ami"] == record["image_id"]
    calls = api_calls(second.stderr)
    assert sum(calls.values()) <= 4, calls
    assert calls["ssm.GetParameter"] == 1, calls
    assert not any(verb in name for name in calls for verb in MUTATING), calls

    # AWS ships a new platform version: check notices, names what is new and what it replaces.
    released = release_platform(sandbox.endpoint, "multicontainer-docker", "2017.09")
    third = check(sandbox, cwd=tmp_path)
    assert third.returncode == 0, third.stderr
    news = verdict(third)
    assert news["build_needed"] is True
    assert (news["base_ami"], news["platform_version"]) == (
        released["image_id"],
        released["platform_version"],
    )
    assert news["replaces"] == record["image_id"]
    assert news["platform_released"].startswith(released["released"][:10])

    # build bakes from the new base AMI, with the bake key check announced.
    again = build(sandbox, "--release", "2017.09", "--record", "second.json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    second_record = json.loads((tmp_path / "second.json").read_text())
    assert second_record["bake_key"] == news["bake_key"]
    assert second_record["base_ami"]["image_id"] == released["image_id"]
    assert verdict(check(sandbox, cwd=tmp_path))["build_needed"] is False


def test_github_outputs_and_drift(make_sandbox: SandboxFactory, tmp_path: Path) -> None:
    sandbox = make_sandbox()
    output, summary = tmp_path / "output", tmp_path / "summary.md"
    github = {"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}
    result = subprocess.run(
        ebami_command("-o", "github", "check", "--release", "2017.09", "--env", "prod",
                      "--exit-code"),
        cwd=tmp_path,
        env={**os.environ, **sandbox.env(), **github},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert result.returncode == 10, result.stderr
    written = output.read_text()
    assert "build-needed=true\n" in written
    assert "drift-count=1\n" in written
    assert "prod ami-" in written
    assert " stock: runs the platform's own AMI" in written
    assert "::warning title=ebami%3A prod drifts::prod ami-" in result.stdout
    assert "| prod | ami-" in summary.read_text()
