"""Channels and revocation as a user runs them: `ebami promote`, `ebami revoke` and
`ebami apply --channel` in real CLI processes against one sandbox, with AMIs baked by the real
packer and passed by `ebami verify`.

The module's AMIs: A, baked on the seeded base AMI, and B, baked after AWS "released" a newer
base AMI (`ebami sandbox release`). The tests run in file order on that one sandbox: B is
revoked by the second one.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox_helpers import Sandbox, module_sandbox
from tests.support.amis import image, tags_of
from tests.support.environments import configured_image
from tests.support.runs import (
    api_calls,
    ebami,
    ebami_command,
    last_error,
    mutating,
    one_error_line,
    verified_ami,
)
from tests.support.visibility import put_image_parameter

STABLE = "/ebami/multicontainer-docker/2017.09/stable"
REASON = "CVE-2026-0001 in the bundled docker"


@dataclass(frozen=True)
class Estate:
    sandbox: Sandbox
    work: Path
    a: str
    b: str

    def run(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return ebami(self.sandbox, *args, cwd=self.work, **kwargs)

    def ssm(self) -> Any:
        return self.sandbox.client("ssm")

    def stable(self) -> str:
        value: str = self.ssm().get_parameter(Name=STABLE)["Parameter"]["Value"]
        return value

    def history(self) -> list[str]:
        versions = self.ssm().get_parameter_history(Name=STABLE)["Parameters"]
        return [item["Value"] for item in sorted(versions, key=lambda item: item["Version"])]


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    with module_sandbox(tmp_path_factory) as (sandbox, work):
        a = verified_ami(sandbox, work)
        released = subprocess.run(
            ebami_command("sandbox", "release", "--dir", str(sandbox.directory),
                          "--release", "2017.09"),
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert released.returncode == 0, released.stderr
        b = verified_ami(sandbox, work)
        assert b != a
        yield Estate(sandbox, work, a, b)


def test_promote_steps_back_and_forth_keeping_the_history(estate: Estate) -> None:
    a, b = estate.a, estate.b
    dry = estate.run("promote", "--ami", a, "--channel", "stable", "--dry-run", stats=True)
    assert dry.returncode == 0, dry.stderr
    assert f"pointing channel stable (multicontainer-docker 2017.09) ({STABLE}) at {a}" in (
        dry.stdout
    )
    assert mutating(api_calls(dry.stderr)) == []
    assert _missing(estate)

    first = estate.run("promote", "--ami", a, "--channel", "stable", json_output=True)
    assert first.returncode == 0, first.stderr
    assert '"version": 1' in first.stdout
    parameter = estate.ssm().get_parameter(Name=STABLE)["Parameter"]
    assert (parameter["Value"], parameter["DataType"]) == (a, "aws:ec2:image")

    again = estate.run("promote", "--ami", a, "--channel", "stable", stats=True)
    assert again.returncode == 0, again.stderr
    assert f"unchanged: channel stable (multicontainer-docker 2017.09) already names {a}" in (
        again.stderr
    )
    assert mutating(api_calls(again.stderr)) == []

    forward = estate.run("promote", "--ami", b, "--channel", "stable")
    assert forward.returncode == 0, forward.stderr
    assert forward.stdout == f"{STABLE}  {b}  version 2\n"

    back_dry = estate.run(
        "promote", "--channel", "stable", "--previous", "--release", "2017.09", "--dry-run",
        stats=True,
    )  # fmt: skip
    assert back_dry.returncode == 0, back_dry.stderr
    assert mutating(api_calls(back_dry.stderr)) == []
    back = estate.run("promote", "--channel", "stable", "--previous", "--release", "2017.09")
    assert back.returncode == 0, back.stderr
    assert estate.stable() == a
    # Stepping back again toggles to the value before: B.
    ahead = estate.run("promote", "--channel", "stable", "--previous", "--release", "2017.09")
    assert ahead.returncode == 0, ahead.stderr
    assert estate.history() == [a, b, a, b]

    # A value written outside ebami (the stock base AMI) is never stepped back to: it is
    # skipped, and named with why.
    beta = STABLE.replace("/stable", "/beta")
    stock = tags_of(image(estate.sandbox, a))["ebami:base-ami"]
    for value in (a, stock, b):
        put_image_parameter(estate.ssm(), beta, value, Overwrite=True)
    beta_back = estate.run(
        "promote", "--channel", "beta", "--previous", "--release", "2017.09", "--dry-run"
    )
    assert beta_back.returncode == 0, beta_back.stderr
    assert f"pointing channel beta (multicontainer-docker 2017.09) ({beta}) at {a}" in (
        beta_back.stdout
    )
    assert f"skipped version 2 {stock} (not an ebami AMI)" in beta_back.stdout
    estate.ssm().delete_parameter(Name=beta)  # the next test counts the channels naming B


def _missing(estate: Estate) -> bool:
    try:
        estate.stable()
    except estate.ssm().exceptions.ParameterNotFound:
        return True
    return False


def test_revoke_moves_the_channel_back_and_everything_refuses_the_revoked_ami(
    estate: Estate,
) -> None:
    a, b = estate.a, estate.b
    promoted = estate.run("promote", "--ami", b, "--channel", "stable")
    assert promoted.returncode == 0, promoted.stderr
    before = estate.history()

    dry = estate.run(
        "revoke", "--ami", b, "--reason", REASON, "--deprecate", "--dry-run", stats=True
    )
    assert dry.returncode == 0, dry.stderr
    assert (
        f"moving channel stable (multicontainer-docker 2017.09) ({STABLE}) back from {b} to {a}"
        in (dry.stdout)
    )
    assert mutating(api_calls(dry.stderr)) == []
    assert "ebami:revoked" not in tags_of(image(estate.sandbox, b))

    revoked = estate.run("revoke", "--ami", b, "--reason", REASON, "--deprecate", stats=True)
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout == f"revoked {b}\n{STABLE}  {b} -> {a}\n"
    calls = api_calls(revoked.stderr)
    assert sorted(mutating(calls)) == [
        "ec2.CreateTags", "ec2.EnableImageDeprecation", "ssm.PutParameter",
    ]  # fmt: skip
    assert estate.stable() == a
    assert estate.history() == [*before, a]
    described = image(estate.sandbox, b)
    found = tags_of(described)
    assert (found["ebami:revoked"], found["ebami:revoked-reason"]) == ("true", REASON)
    assert found["ebami:revoked-at"].endswith("Z")
    assert described.get("DeprecationTime")

    refused_apply = estate.run("apply", "--env", "staging", "--ami", b, stats=True)
    assert refused_apply.returncode == 7, refused_apply.stderr
    assert REASON in last_error(refused_apply)
    assert "ebami apply without --ami" in last_error(refused_apply)
    assert mutating(api_calls(refused_apply.stderr)) == []

    refused_promote = estate.run("promote", "--ami", b, "--channel", "stable", stats=True)
    assert refused_promote.returncode == 7, refused_promote.stderr
    assert one_error_line(refused_promote) == (
        f"error: {b} cannot be promoted: revoked at {found['ebami:revoked-at']}: {REASON}; "
        "promote a verified AMI that is not revoked"
    )
    assert mutating(api_calls(refused_promote.stderr)) == []

    # Someone points the channel at B by hand: apply --channel refuses it, and revoking again
    # moves the channel off it without tagging anything.
    put_image_parameter(estate.ssm(), STABLE, b, Overwrite=True)
    by_channel = estate.run("apply", "--env", "staging", "--channel", "stable", stats=True)
    assert by_channel.returncode == 7, by_channel.stderr
    assert f"channel stable still names it: ebami revoke --ami {b}" in last_error(by_channel)
    assert mutating(api_calls(by_channel.stderr)) == []

    again = estate.run(
        "revoke", "--ami", b, "--reason", "another reason", stats=True, json_output=True
    )
    assert again.returncode == 0, again.stderr
    assert mutating(api_calls(again.stderr)) == ["ssm.PutParameter"]
    assert f"{b} already revoked on {found['ebami:revoked-at']}: {REASON}" in again.stderr
    assert "the reason given (another reason) is not recorded" in again.stderr
    # The JSON says when EC2 deprecates it, set by the first run.
    deprecate_at = json.loads(again.stdout)["deprecate_at"]
    assert deprecate_at
    assert described["DeprecationTime"].startswith(deprecate_at[:16])
    assert estate.stable() == a
    assert tags_of(image(estate.sandbox, b))["ebami:revoked-reason"] == REASON


def test_apply_channel_applies_the_channels_ami(estate: Estate) -> None:
    """Needs `Factory.plan_apply` to give the planner its channels."""
    assert estate.stable() == estate.a
    result = estate.run("apply", "--env", "staging", "--channel", "stable")
    assert result.returncode == 0, result.stderr
    assert configured_image(estate.sandbox, "staging") == estate.a
