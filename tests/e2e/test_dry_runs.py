"""Every command that changes something has a dry run, and the dry run makes no mutating call:
build, verify, apply (one environment and a fleet), promote (and --previous), revoke and
prune, each counted by the API call counter against one sandbox with a verified AMI."""

from __future__ import annotations

from pathlib import Path

import pytest

from ebami.sandbox import world
from tests.sandbox_helpers import Sandbox, run_ebami
from tests.support.runs import api_calls, build, mutating

CHANNEL = "/ebami/multicontainer-docker/2017.09/stable"


@pytest.fixture(scope="module")
def verified(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """Two verified AMIs, the newer promoted after the older (so --previous has a step)."""
    cwd = tmp_path_factory.mktemp("dry-runs")
    found = []
    for drivers in ("json-file,fluentd", "json-file,syslog,fluentd"):
        built = build(sandbox, "--release", "2017.09", "--drivers", drivers, cwd=cwd)
        assert built.returncode == 0, built.stderr
        image_id = built.stdout.strip()
        checked = run_ebami(
            sandbox, "verify", "--ami", image_id, "--instance-profile", world.EC2_ROLE, cwd=cwd
        )
        assert checked.returncode == 0, checked.stderr
        promoted = run_ebami(sandbox, "promote", "--ami", image_id, "--channel", "stable", cwd=cwd)
        assert promoted.returncode == 0, promoted.stderr
        found.append(image_id)
    return found[0], found[1]


@pytest.mark.parametrize(
    "command",
    [
        ("build", "--release", "2017.09", "--drivers", "json-file,gelf,fluentd", "--dry-run"),
        ("verify", "--ami", "{new}", "--instance-profile", world.EC2_ROLE, "--dry-run"),
        ("apply", "--env", "staging", "--ami", "{new}", "--dry-run"),
        ("apply", "--env", "staging", "--env", "prod", "--channel", "stable", "--dry-run"),
        ("promote", "--ami", "{old}", "--channel", "stable", "--dry-run"),
        ("promote", "--channel", "stable", "--previous", "--release", "2017.09", "--dry-run"),
        ("revoke", "--ami", "{new}", "--reason", "a test", "--deprecate", "--dry-run"),
        ("prune", "--keep", "1", "--older-than", "0"),
        # Every enabled region, those without Elastic Beanstalk left out.
        ("prune", "--all-regions"),
    ],
    ids=lambda command: "-".join(word.strip("-") for word in command[:2]),
)
def test_a_dry_run_makes_no_mutating_call(
    sandbox: Sandbox, verified: tuple[str, str], command: tuple[str, ...], tmp_path: Path
) -> None:
    old, new = verified
    ssm = sandbox.client("ssm")
    channel_before = ssm.get_parameter_history(Name=CHANNEL)["Parameters"]
    args = [word.format(old=old, new=new) for word in command]
    result = run_ebami(sandbox, *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    calls = api_calls(result.stderr)
    assert calls, result.stderr
    assert mutating(calls) == []
    # What the plan would change is still as it was.
    assert ssm.get_parameter_history(Name=CHANNEL)["Parameters"] == channel_before
    (image,) = sandbox.client("ec2").describe_images(ImageIds=[new])["Images"]
    assert "ebami:revoked" not in {tag["Key"] for tag in image.get("Tags", [])}
    assert "DeprecationTime" not in image
