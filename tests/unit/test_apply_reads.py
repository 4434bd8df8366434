"""`SharedReads`: what the plans of one run share in a region is read once however many
environments (and threads) ask: the verified scan, each platform version, each application
version's drivers (its bundle read from S3 once), each environment's instance count; an AMI by
id once per wave, the scan answering wave 0."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from ebami.apply.reads import SharedReads
from tests.fakes.apply import ENVIRONMENT, PlannerWorld, ami, world_with

THREADS = 8
STUCK = 30.0


def shared(found: PlannerWorld) -> tuple[SharedReads, list[str]]:
    """Reads over `found`, and each time the S3 client was asked for."""
    made: list[str] = []

    def s3() -> PlannerWorld:
        made.append("s3")
        return found

    return SharedReads(eb=found, ec2=found, s3=s3, region="us-east-1"), made


def test_the_verified_scan_is_read_once_for_every_thread() -> None:
    found = world_with(ami("ami-0old", "2026-10-01"), ami("ami-0new", "2026-11-01"))
    reads, _ = shared(found)
    start = threading.Barrier(THREADS)

    def scan(_: int) -> list[str]:
        start.wait(STUCK)
        return [image.image_id for image in reads.verified()]

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        answers = list(pool.map(scan, range(THREADS)))
    assert answers == [["ami-0new", "ami-0old"]] * THREADS  # newest first
    assert reads.verified()[0].image_id == "ami-0new"
    assert found.reads == ["DescribeImages"]


def test_the_scan_answers_wave_0_and_each_later_wave_reads_an_ami_once() -> None:
    found = world_with(ami("ami-0new"))
    reads, _ = shared(found)
    reads.verified()
    image = reads.image("ami-0new", 0)
    assert image is not None
    assert image.image_id == "ami-0new"
    assert found.reads == ["DescribeImages"]  # the scan's
    for wave in (1, 1, 2, 2, 2):
        assert reads.image("ami-0new", wave) is not None
    # Its state may change between waves: one read in each.
    assert found.reads == ["DescribeImages"] * 3


def test_an_ami_ec2_does_not_know_is_none_and_asked_once_a_wave() -> None:
    found = world_with()
    reads, _ = shared(found)
    assert reads.image("ami-0gone") is None
    assert reads.image("ami-0gone") is None
    assert found.reads == ["DescribeImages"]
    # An AMI asked before the scan keeps its answer (the scan does not replace it).
    found.images["ami-0gone"] = ami("ami-0gone")
    reads.verified()
    assert reads.image("ami-0gone", 0) is None
    assert reads.image("ami-0gone", 1) is not None


def test_each_platform_version_is_read_once() -> None:
    found = world_with()
    reads, _ = shared(found)
    other = ENVIRONMENT.platform_arn.replace("2.8.4", "2.8.5")
    for arn in (ENVIRONMENT.platform_arn, other, ENVIRONMENT.platform_arn, other):
        assert reads.platform(arn).arn == arn
    assert found.reads == ["DescribePlatformVersion"] * 2


def test_each_application_version_s_drivers_are_read_once() -> None:
    found = world_with()
    reads, made = shared(found)
    uses, problem = reads.driver_uses("webapp", "v42")
    assert problem == ""
    assert uses is not None
    assert {use.driver for use in uses} == {"fluentd"}
    assert reads.driver_uses("webapp", "v42") == (uses, problem)
    assert found.reads == ["DescribeApplicationVersions", "GetObject"]
    # Another version, or the same label of another application: read on its own.
    reads.driver_uses("webapp", "v43")
    reads.driver_uses("api", "v42")
    assert found.reads.count("DescribeApplicationVersions") == 3
    assert found.reads.count("GetObject") == 3
    assert len(made) == 3  # the S3 client is asked for only when a bundle is read


def test_no_version_or_no_bundle_is_unknown_drivers_with_why() -> None:
    found = world_with()
    reads, made = shared(found)
    assert reads.driver_uses("webapp", "") == (
        None,
        "the environment has no application version deployed",
    )
    assert found.reads == []
    found.bundle = None
    assert reads.driver_uses("webapp", "v9") == (
        None,
        "application version 'v9' has no source bundle in S3",
    )
    assert reads.driver_uses("webapp", "v9")[0] is None
    assert found.reads == ["DescribeApplicationVersions"]
    assert made == []


def test_each_environment_s_instances_are_counted_once() -> None:
    found = world_with(instances=3)
    reads, _ = shared(found)
    other = replace(ENVIRONMENT, environment_id="e-456", name="staging")
    assert [reads.instances(item) for item in (ENVIRONMENT, other, ENVIRONMENT, other)] == [3] * 4
    assert found.reads == ["DescribeEnvironmentResources"] * 2
