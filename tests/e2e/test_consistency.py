"""ebami against a sandbox as slow to show its writes as AWS is, exaggerated: SSM validates
`aws:ec2:image` values 2 s after PutParameter answers, and new instances and AMIs answer NotFound
for 3 s (`--realism parameter-validation=2,ec2-not-found=3`). The real CLI, the real packer.

The tests run in file order on one sandbox: the first bakes and verifies the AMI the second
promotes; the third bakes another one and has it deregistered while SSM validates it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from ebami.sandbox.realism import Realism
from tests.sandbox_helpers import Sandbox, module_sandbox
from tests.support.runs import ebami, ebami_command, last_error, verified_ami

STABLE = "/ebami/multicontainer-docker/2017.09/stable"
REALISM = Realism(parameter_validation=2.0, ec2_not_found=3.0)


@dataclass
class Estate:
    sandbox: Sandbox
    work: Path
    amis: list[str]

    def history(self) -> list[tuple[int, str]]:
        found = self.sandbox.client("ssm").get_parameter_history(Name=STABLE)["Parameters"]
        return sorted((int(item["Version"]), str(item["Value"])) for item in found)


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    with module_sandbox(tmp_path_factory, realism=REALISM) as (sandbox, work):
        yield Estate(sandbox, work, [])


def test_build_and_verify_cope_with_new_ids_ec2_does_not_show_yet(estate: Estate) -> None:
    # Packer retries the NotFound of its new instance and AMI in its waiters; ebami reads the
    # AMI back (build) and the instance it launched (verify) until EC2 shows them.
    estate.amis.append(verified_ami(estate.sandbox, estate.work))


def test_promote_waits_for_ssm_to_validate_and_reads_back_its_version(estate: Estate) -> None:
    ami = estate.amis[0]
    result = ebami(estate.sandbox, "promote", "--ami", ami, "--channel", "stable", cwd=estate.work)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{STABLE}  {ami}  version 1\n"
    assert f"SSM answered version 1 of {STABLE}; waiting until it has validated {ami}" in (
        result.stderr
    )
    assert "another promote or revoke" not in result.stderr
    assert estate.history() == [(1, ami)]


def test_a_value_ssm_drops_fails_in_one_line_naming_the_parameter(estate: Estate) -> None:
    dropped = verified_ami(estate.sandbox, estate.work, "--force")
    promote = subprocess.Popen(
        ebami_command("promote", "--ami", dropped, "--channel", "stable"),
        cwd=estate.work,
        env={**os.environ, **estate.sandbox.env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert promote.stderr is not None
    seen: list[str] = []
    for line in promote.stderr:  # PutParameter has answered once this line is printed
        seen.append(line)
        if line.startswith(f"SSM answered version 2 of {STABLE}"):
            break
    else:
        pytest.fail("".join(seen))
    # Deregistered while SSM validates it: the validation drops it. Promote protected the AMI
    # first: someone must turn that off to deregister it.
    ec2 = estate.sandbox.client("ec2")
    with pytest.raises(ClientError, match="OperationNotPermitted"):
        ec2.deregister_image(ImageId=dropped)
    ec2.disable_image_deregistration_protection(ImageId=dropped)
    ec2.deregister_image(ImageId=dropped)
    stdout, rest = promote.communicate(timeout=60)
    result = subprocess.CompletedProcess(
        promote.args, promote.returncode, stdout, "".join(seen) + rest
    )
    assert result.returncode == 3, result.stderr
    error = last_error(result)
    assert error.startswith(
        f"error: SSM did not take {dropped} for {STABLE}: version 2, which PutParameter "
        f"answered, never showed ({dropped} does not exist any more (deregistered?))"
    )
    assert stdout == ""  # nothing reported as done
    assert estate.history() == [(1, estate.amis[0])]  # the channel keeps its value
