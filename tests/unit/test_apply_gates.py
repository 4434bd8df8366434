"""The gates an AMI passes before an environment is switched to it."""

from __future__ import annotations

from ebami.apply.gates import (
    Verdict,
    dockerrun_gate,
    image_gate,
    platform_gate,
    verified_gate,
)
from ebami.aws.ec2_values import Image
from ebami.image import tags
from ebami.image.dockerrun import DriverUse
from ebami.image.environment import EnvironmentPlatform
from ebami.image.managed import ManagedImage

AL1 = EnvironmentPlatform(
    arn="arn:aws:elasticbeanstalk:us-east-1::platform/Multi-container Docker running on 64bit "
    "Amazon Linux/2.8.4",
    name="Multi-container Docker running on 64bit Amazon Linux",
    version="2.8.4",
    os_version="2017.09",
    default_image="ami-0stock",
)
FLUENTD = "json-file syslog awslogs fluentd none"


def image(state: str = "available", **tagged: str) -> ManagedImage:
    ours = {
        tags.PLATFORM: "multicontainer-docker",
        tags.PLATFORM_VERSION: "2.8.4",
        tags.RELEASE: "2017.09",
        tags.DRIVERS: FLUENTD,
        tags.VERIFIED: "2026-11-22T00:00:00Z",
    }
    merged = {key: value for key, value in {**ours, **tagged}.items() if value}
    return ManagedImage.of(
        Image("ami-0new", "custom", state, "2026-11-22T00:00:00.000Z", merged, ())
    )


def test_image_gate() -> None:
    assert image_gate(image(), "ami-0new", "us-east-1").verdict is Verdict.PASSED
    missing = image_gate(None, "ami-0gone", "eu-west-1")
    assert missing.refuses
    assert missing.detail == (
        "ami-0gone does not exist in eu-west-1 or is not shared with this account"
    )
    assert "is pending, not available" in image_gate(image("pending"), "ami-0new", "r").detail
    revoked = image_gate(image(**{tags.REVOKED: "cve-2026-1"}), "ami-0new", "us-east-1")
    assert revoked.refuses
    assert "revoked (ebami:revoked=cve-2026-1)" in revoked.detail


def test_verified_gate() -> None:
    assert verified_gate(image(), allow_unverified=False).verdict is Verdict.PASSED
    unverified = image(**{tags.VERIFIED: ""})
    refused = verified_gate(unverified, allow_unverified=False)
    assert refused.refuses
    assert "ebami verify --ami ami-0new" in refused.detail
    assert verified_gate(unverified, allow_unverified=True).verdict is Verdict.WARNED


def test_dockerrun_gate_refuses_what_placement_would_refuse() -> None:
    uses = (DriverUse("web", "fluentd"), DriverUse("side", "awslogs"))
    assert dockerrun_gate(image(), uses, version_label="v42").verdict is Verdict.PASSED
    without = image(**{tags.DRIVERS: "json-file syslog awslogs none"})
    refused = dockerrun_gate(without, uses, version_label="v42")
    assert refused.refuses
    assert refused.detail == (
        "version 'v42' needs log driver fluentd (container web), which ami-0new does not "
        "allow (it allows json-file, syslog, awslogs, none): its tasks would fail placement "
        "with ATTRIBUTE"
    )
    assert refused.data["allowed"] == ["json-file", "syslog", "awslogs", "none"]


def test_dockerrun_gate_without_facts() -> None:
    uses = (DriverUse("web", "fluentd"),)
    untagged = dockerrun_gate(image(**{tags.DRIVERS: ""}), uses, version_label="v1")
    assert untagged.refuses
    assert "no ebami:drivers tag" in untagged.detail
    unknown = dockerrun_gate(image(), None, version_label="v1", problem="no bundle")
    assert unknown.verdict is Verdict.WARNED
    assert unknown.detail.endswith("unknown: no bundle")
    assert dockerrun_gate(image(), (), version_label="v1").verdict is Verdict.PASSED


def test_platform_gate_refuses_another_os_family_and_warns_of_another_version() -> None:
    assert platform_gate(image(), AL1).verdict is Verdict.PASSED
    al2 = platform_gate(image(**{tags.PLATFORM: "ecs-al2", tags.RELEASE: "2"}), AL1)
    assert al2.refuses
    assert al2.detail == (
        "ami-0new is Amazon Linux 2 (ecs-al2), the environment's platform is Amazon Linux 1 "
        "(multicontainer-docker)"
    )
    older = platform_gate(image(**{tags.PLATFORM_VERSION: "2.8.0"}), AL1)
    assert older.verdict is Verdict.WARNED
    assert "ebami build --platform-version 2.8.4" in older.detail
    release = platform_gate(image(**{tags.RELEASE: "2018.03"}), AL1)
    assert release.verdict is Verdict.WARNED
    assert "--release 2017.09" in release.detail
    assert platform_gate(image(**{tags.PLATFORM: ""}), AL1).refuses


def test_platform_gate_refuses_a_platform_ebami_does_not_bake_for() -> None:
    python = EnvironmentPlatform("arn", "Python 3.11 running on 64bit Amazon Linux 2023",
                                 "4.1.0", "2023", None)  # fmt: skip
    refused = platform_gate(image(), python)
    assert refused.refuses
    assert "not an ECS-based platform" in refused.detail
