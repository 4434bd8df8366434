"""What an apply protects from deregistration (ebami.image.protection): each AMI once per run and
region, tagged with what for; where EC2's guard cannot be used, one warning and the apply goes
on; and where the rollback target is kept (ebami.image.rollback): in SSM, the tag earlier
versions wrote still read where no parameter exists."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ebami.core.errors import AwsError, GuardUnavailable
from ebami.image.channels import Channels
from ebami.image.protection import ImageGuard
from ebami.image.rollback import RollbackTargets, recorded
from tests.helpers import RecordingReporter


class ProtectingEc2:
    def __init__(self, refuse: Exception | None = None) -> None:
        self.calls: list[tuple[str, object]] = []
        self._refuse = refuse

    def protect_image(self, image_id: str) -> str:
        self.calls.append(("protect", image_id))
        if self._refuse is not None:
            raise self._refuse
        return "enabled-without-cooldown"

    def tag_resources(self, resource_ids: list[str], tags: dict[str, str]) -> None:
        self.calls.append(("tag", (tuple(resource_ids), dict(tags))))


def test_each_ami_is_protected_once_per_run_and_tagged_with_why() -> None:
    ec2 = ProtectingEc2()
    guard = ImageGuard(ec2, RecordingReporter())
    with ThreadPoolExecutor(max_workers=8) as pool:  # a wave's environments at once
        list(pool.map(lambda n: guard.protect(["ami-0new", "ami-0old"], f"apply e{n}"), range(8)))
    protected = sorted(str(image) for call, image in ec2.calls if call == "protect")
    assert protected == ["ami-0new", "ami-0old"]
    # Each AMI is tagged before it is protected: protection without ebami's tag would read as
    # someone else's, which prune never turns off.
    for image_id in protected:
        calls = [(call, value) for call, value in ec2.calls if image_id in str(value)]
        assert [call for call, _ in calls] == ["tag", "protect"]
    tags = [value for call, value in ec2.calls if call == "tag"]
    assert len(tags) == 2
    assert all(set(tagged[1]) == {"ebami:protected-for"} for tagged in tags)  # type: ignore[index]


def test_an_unavailable_guard_warns_once_and_the_run_goes_on() -> None:
    reporter = RecordingReporter()
    refused = GuardUnavailable("ec2:EnableImageDeregistrationProtection ami-1: AWS refused it")
    guard = ImageGuard(ProtectingEc2(refused), reporter)
    assert guard.protect(["ami-1", "ami-2"], "apply prod") == []
    assert guard.protect(["ami-3"], "apply staging") == []
    assert reporter.lines == [
        "warning: deregistration protection not turned on (ec2:EnableImageDeregistrationProtection "
        "ami-1: AWS refused it): the AMIs environments use are not protected from deregistration"
    ]


def test_a_failed_protection_is_a_warning_naming_the_ami() -> None:
    reporter = RecordingReporter()
    guard = ImageGuard(ProtectingEc2(AwsError("ec2:... failed: InternalError: boom")), reporter)
    assert guard.protect(["ami-1"], "apply prod") == []
    assert reporter.lines == [
        "warning: could not protect ami-1 from deregistration: ec2:... failed: InternalError: boom"
    ]


class Parameters:
    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def parameter_value(self, name: str) -> str | None:
        return self.values.get(name)

    def parameter_values(self, path: str) -> dict[str, str]:
        return {k: v for k, v in self.values.items() if k.startswith(path + "/")}

    def put_value(self, name: str, value: str, *, description: str) -> int:
        self.values[name] = value
        return 1

    def history(self, name: str) -> list[object]:
        return []


def test_the_rollback_target_is_read_from_ssm_else_from_the_old_tag() -> None:
    ssm = Parameters({})
    targets = RollbackTargets(ssm, "/ebami")
    legacy = {"ebami:previous-image-id": "ami-0tagged"}
    assert targets.of("e-1", lambda: legacy) == "ami-0tagged"
    targets.record("e-1", "prod", "ami-0recorded")
    assert ssm.values == {"/ebami/rollback-target/e-1": "ami-0recorded"}

    def unread() -> dict[str, str]:
        raise AssertionError("the tags are read only where no parameter exists")

    assert targets.of("e-1", unread) == "ami-0recorded"
    assert recorded(ssm, targets.folder) == {"e-1": "ami-0recorded"}


def test_a_rollback_target_is_no_channel_whatever_the_pattern() -> None:
    ssm = Parameters({"/ebami/rollback-target/e-1": "ami-1", "/ebami/al2/stable": "ami-2"})
    channels = Channels(ssm, "/ebami/{platform}/{channel}")  # type: ignore[arg-type]
    assert [state.parameter for state in channels.all()] == ["/ebami/al2/stable"]
