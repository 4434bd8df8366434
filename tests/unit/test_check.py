"""`ebami check`: the drift of environments from the newest verified AMI, and the report's
outputs for people, shells and GitHub."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

from ebami.core.errors import AwsError
from ebami.image import tags
from ebami.image.bake import BuildVerdict
from ebami.image.managed import ManagedImage
from ebami.lifecycle.check import CheckReport
from ebami.lifecycle.drift import DriftChecker, DriftStatus
from tests.fakes.apply import STOCK, PlannerWorld, ami, world_with

NOW = datetime(2026, 11, 22, tzinfo=timezone.utc)


def checker(found: PlannerWorld, max_age: int = 30) -> DriftChecker:
    return DriftChecker(eb=found, ec2=found, max_age_days=max_age, now=lambda: NOW)


def test_drift_statuses() -> None:
    newest = ami("ami-0new", "2026-11-20")
    older = ami("ami-0old", "2026-09-01")
    al2 = ami("ami-0al2", "2026-11-21", **{tags.PLATFORM: "ecs-al2", tags.RELEASE: "2"})

    stock = checker(world_with(newest, older, al2)).check("prod", None)
    assert (stock.status, stock.image_id, stock.newest) == (DriftStatus.STOCK, STOCK, "ami-0new")
    assert stock.drifts

    behind = checker(world_with(newest, older, configured="ami-0old")).check("prod", None)
    assert behind.status is DriftStatus.BEHIND
    assert behind.age_days == 82
    assert behind.detail == "82 days old; the newest verified ebami AMI is ami-0new"

    current = checker(world_with(newest, older, configured="ami-0new")).check("prod", None)
    assert (current.status, current.age_days, current.drifts) == (DriftStatus.CURRENT, 2, False)

    # The newest verified AMI, but older than the limit.
    old = checker(world_with(older, configured="ami-0old"), max_age=30).check("prod", None)
    assert old.status is DriftStatus.OLD
    assert old.detail == "82 days old, over 30"

    missing = checker(world_with(newest, configured="ami-0gone")).check("prod", None)
    assert missing.status is DriftStatus.MISSING
    assert "cannot launch instances" in missing.detail


def test_a_revoked_or_unverified_ami_is_never_current() -> None:
    revoked = ami(
        "ami-0bad", "2026-11-20",
        **{tags.REVOKED: "true", tags.REVOKED_AT: "2026-11-21T00:00:00Z",
           tags.REVOKED_REASON: "CVE-1"},
    )  # fmt: skip
    older = ami("ami-0old", "2026-11-01")
    # The newest AMI, revoked: before, the environment counted as current.
    found = checker(world_with(revoked, configured="ami-0bad")).check("prod", None)
    assert (found.status, found.drifts) == (DriftStatus.REVOKED, True)
    assert found.detail == "ami-0bad was revoked at 2026-11-21T00:00:00Z: CVE-1"
    # With an older verified AMI left: revoked, and the way back named.
    found = checker(world_with(revoked, older, configured="ami-0bad")).check("prod", None)
    assert (found.status, found.newest) == (DriftStatus.REVOKED, "ami-0old")
    # Applied with --allow-unverified, no verified AMI fitting: unverified, not current.
    unverified = ami("ami-0raw", "2026-11-20", **{tags.VERIFIED: ""})
    found = checker(world_with(unverified, configured="ami-0raw")).check("prod", None)
    assert (found.status, found.newest) == (DriftStatus.UNVERIFIED, None)
    # With a newer verified AMI, it is behind it (and drifts all the same).
    newer = ami("ami-0new", "2026-11-21")
    found = checker(world_with(unverified, newer, configured="ami-0raw")).check("prod", None)
    assert (found.status, found.newest) == (DriftStatus.BEHIND, "ami-0new")


def test_amis_made_at_the_same_time_order_by_id() -> None:
    first = ami("ami-0aaaaaaa", "2026-11-20")
    second = ami("ami-0bbbbbbb", "2026-11-20")
    for images in ((first, second), (second, first)):
        found = checker(world_with(*images, configured="ami-0aaaaaaa")).check("prod", None)
        assert (found.status, found.newest) == (DriftStatus.BEHIND, "ami-0bbbbbbb")


def test_verified_amis_are_read_once_for_every_environment() -> None:
    found = world_with(ami("ami-0new"), configured="ami-0new")
    drift = checker(found)
    drift.check("prod", None)
    drift.check("prod", None)
    # One DescribeImages for the verified AMIs, one for the AMI it runs: each read once.
    assert found.reads.count("DescribeImages") == 2


VERDICT = BuildVerdict(
    needed=True,
    base_ami="ami-0base2",
    platform_version="2.8.5",
    platform_released="2026-11-22T00:00:00+00:00",
    bake_key="k" * 64,
    existing=None,
    replaces="ami-0prev",
)


def test_the_report_for_shells_and_github() -> None:
    drifts = checker(world_with(ami("ami-0new"), configured="ami-0old")).check("prod", None)
    report = CheckReport(VERDICT, (drifts,))
    assert report.action_needed
    assert VERDICT.summary == (
        "build needed: base AMI ami-0base2 (platform version 2.8.5, released 2026-11-22) has no "
        "ebami AMI; it replaces ami-0prev"
    )
    outputs = report.github_outputs()
    assert outputs["build-needed"] == "true"
    assert outputs["replaces"] == "ami-0prev"
    assert outputs["drift-count"] == "1"
    assert outputs["drift"] == (
        "prod ami-0old missing: ami-0old no longer exists: the environment cannot launch instances"
    )
    shown = report.to_json()
    assert shown["build_needed"] is True
    assert shown["drift"][0]["status"] == "missing"
    assert "| prod | ami-0old | missing | - |" in report.markdown()


def test_nothing_to_do_is_no_action() -> None:
    up_to_date = BuildVerdict(False, "ami-0base", "2.8.4", "", "k" * 64, "ami-0ours", None, True)
    report = CheckReport(up_to_date, ())
    assert not report.action_needed
    assert up_to_date.summary == "up to date: ami-0ours carries the bake key"
    assert report.github_outputs()["drift"] == ""
    assert report.github_outputs()["verify-needed"] == "false"


def test_an_ami_whose_verify_failed_is_not_done() -> None:
    unverified = BuildVerdict(False, "ami-0base", "2.8.4", "", "k" * 64, "ami-0ours", None, False)
    report = CheckReport(unverified, ())
    assert report.action_needed
    assert unverified.summary == (
        "verify needed: ami-0ours carries the bake key but has not passed ebami verify (run "
        "ebami verify --ami ami-0ours)"
    )
    assert report.github_outputs()["verify-needed"] == "true"
    assert report.github_outputs()["build-needed"] == "false"


class FailingScan(PlannerWorld):
    """A world whose verified-AMI scan fails with `error`."""

    def __init__(self, error: Exception) -> None:
        base = world_with(ami("ami-0new"), configured="ami-0new")
        super().__init__(bundle=base.bundle, images=base.images, configured="ami-0new")
        self.error = error

    def find_images_with_tag(self, key: str) -> list[Any]:
        self.reads.append("DescribeImages")
        raise self.error


def judge_at_once(found: PlannerWorld, threads: int) -> list[object]:
    drift = checker(found)
    started = threading.Barrier(threads)

    def judge(_: int) -> object:
        started.wait()
        try:
            return drift.judge(
                "prod", "ami-0new", found.environment.platform_arn, deployed=None
            ).status
        except AwsError as exc:
            return exc.message

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(judge, range(threads)))


def test_threads_sharing_a_cold_checker_scan_once_and_describe_the_platform_once() -> None:
    found = world_with(ami("ami-0new"), configured="ami-0new")
    assert judge_at_once(found, 8) == [DriftStatus.CURRENT] * 8
    # One scan of the verified AMIs, one read of the AMI, one of the platform version: not 8.
    assert found.reads.count("DescribeImages") == 2
    assert found.reads.count("DescribePlatformVersion") == 1


def test_a_failed_scan_reaches_every_thread_waiting_for_it() -> None:
    failed = AwsError("ec2:DescribeImages tag-key=ebami:verified failed: RequestLimitExceeded")
    found = FailingScan(failed)
    assert judge_at_once(found, 8) == [failed.message] * 8
    assert found.reads.count("DescribeImages") == 1


def test_an_ami_the_estate_holds_is_not_read_again_and_the_others_in_one_batch() -> None:
    newest = ami("ami-0new")
    found = world_with(newest, ami("ami-0other", "2026-10-01"), configured="ami-0new")
    drift = checker(found)
    drift.know([ManagedImage.of(newest)])
    drift.describe(["ami-0other", "ami-0gone", "ami-0other"])
    assert found.reads.count("DescribeImages") == 1
    arn = found.environment.platform_arn
    statuses = [
        drift.judge("prod", image_id, arn, deployed=None).status
        for image_id in ("ami-0new", "ami-0other", "ami-0gone")
    ]
    assert statuses == [DriftStatus.CURRENT, DriftStatus.BEHIND, DriftStatus.MISSING]
    # The verified scan only: no AMI described by id.
    assert found.reads.count("DescribeImages") == 2


def test_check_reads_a_regions_environments_in_one_call() -> None:
    found = world_with(ami("ami-0new"), configured="ami-0new")
    drifts = checker(found).check_all([("prod", None)] * 5)
    assert [item.status for item in drifts] == [DriftStatus.CURRENT] * 5
    assert found.reads.count("DescribeEnvironments") == 1


def test_the_platforms_own_ami_is_not_read_and_the_estates_verified_amis_not_scanned() -> None:
    newest = ami("ami-0new")
    found = world_with(newest, ami("ami-0other", "2026-10-01"), configured="ami-0new")
    drift = checker(found)
    drift.know_verified([ManagedImage.of(newest)])
    arn = found.environment.platform_arn
    drift.describe_running([(STOCK, arn), (None, arn), ("ami-0other", arn), ("ami-0other", arn)])
    # The platform read once; one batch of the one AMI that is not the platform's own.
    assert found.reads == ["DescribePlatformVersion", "DescribeImages"]
    statuses = [
        drift.judge("prod", image_id, arn, deployed=None).status
        for image_id in (STOCK, "ami-0other")
    ]
    assert statuses == [DriftStatus.STOCK, DriftStatus.BEHIND]
    assert found.reads == ["DescribePlatformVersion", "DescribeImages"]


def test_check_reads_no_ami_for_environments_on_the_platforms_own() -> None:
    found = world_with(ami("ami-0new"))
    drifts = checker(found).check_all([("prod", None)] * 3)
    assert [item.status for item in drifts] == [DriftStatus.STOCK] * 3
    # The verified scan only.
    assert found.reads.count("DescribeImages") == 1
