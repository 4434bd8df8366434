"""The build lease over a fake SSM: taken by one run at a time, waited for with progress,
taken over once expired, released only by its holder."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from ebami.build.actions import BuildActions
from ebami.build.lease import BuildInProgress, Lease, Leases
from tests.fakes.build import Cli, LeaseSsm
from tests.helpers import RecordingReporter

NAME = "/ebami/leases/0123abcd"
T0 = datetime(2026, 11, 21, 9, 30, tzinfo=timezone.utc)
HOUR = 3600.0


class Time:
    """A wall clock and a monotonic clock that move together, only when slept."""

    def __init__(self) -> None:
        self.elapsed = 0.0
        self.when: list[tuple[float, object]] = []

    def now(self) -> datetime:
        return T0 + timedelta(seconds=self.elapsed)

    def clock(self) -> float:
        return self.elapsed

    def sleep(self, seconds: float) -> None:
        self.elapsed += seconds


def held_by(run_id: str, *, since: datetime = T0, seconds: float = 2 * HOUR) -> str:
    return Lease(NAME, run_id, "ci-2", since, since + timedelta(seconds=seconds)).value()


def leases(ssm: LeaseSsm, time: Time, reporter: RecordingReporter | None = None) -> Leases:
    return Leases(ssm, host="ci-1", now=time.now, reporter=reporter or RecordingReporter())


def test_of_two_runs_one_takes_the_lease_and_the_other_learns_who_holds_it() -> None:
    ssm, time = LeaseSsm(), Time()
    mine = leases(ssm, time).take(NAME, "run-1", 2 * HOUR)
    assert mine is not None
    assert (mine.run_id, mine.host, mine.expires) == ("run-1", "ci-1", T0 + timedelta(hours=2))
    assert json.loads(ssm.parameters[NAME]) == {
        "run": "run-1",
        "host": "ci-1",
        "since": "2026-11-21T09:30:00Z",
        "expires": "2026-11-21T11:30:00Z",
    }
    assert ssm.tags[NAME] == {"ebami:managed": "true", "ebami:build-run": "run-1"}
    theirs = leases(ssm, time).take(NAME, "run-2", 2 * HOUR)
    assert theirs == mine


def test_an_expired_lease_is_taken_over_and_said_so() -> None:
    ssm, time, reporter = LeaseSsm(), Time(), RecordingReporter()
    ssm.parameters[NAME] = held_by("run-0", since=T0 - timedelta(hours=3))
    taken = leases(ssm, time, reporter).take(NAME, "run-1", 2 * HOUR)
    assert taken is not None
    assert taken.run_id == "run-1"
    assert reporter.lines == [
        f"warning: took over the build lease {NAME} of run run-0 on host ci-2, since "
        "2026-11-21T06:30:00Z: it expired at 2026-11-21T08:30:00Z (that run was killed, or ran "
        "longer than its lease)"
    ]


def test_an_unreadable_lease_counts_as_expired() -> None:
    ssm, time = LeaseSsm(), Time()
    ssm.parameters[NAME] = "not json"
    taken = leases(ssm, time).take(NAME, "run-1", 2 * HOUR)
    assert taken is not None
    assert taken.run_id == "run-1"


def test_the_lease_is_released_only_by_its_holder() -> None:
    ssm, time, reporter = LeaseSsm(), Time(), RecordingReporter()
    mine = leases(ssm, time).take(NAME, "run-1", 60)
    assert mine is not None
    # Past its expiry another run took it over: releasing must leave that run's lease.
    time.sleep(120)
    theirs = leases(ssm, time).take(NAME, "run-2", 60)
    assert theirs is not None
    assert theirs.run_id == "run-2"
    leases(ssm, time, reporter).release(mine)
    assert ssm.parameters[NAME] == theirs.value()
    assert reporter.lines[-1].startswith(
        f"warning: the build lease {NAME} is now held by run run-2 on host ci-1"
    )
    leases(ssm, time).release(theirs)
    assert NAME not in ssm.parameters


def actions(ssm: LeaseSsm, time: Time, reporter: RecordingReporter) -> BuildActions:
    def no_ec2() -> None:
        raise AssertionError("the lease needs no EC2 call")

    return BuildActions(
        ec2=no_ec2,  # type: ignore[arg-type]  # a lease makes no EC2 call
        ssm=lambda: ssm,
        packer=no_ec2,  # type: ignore[arg-type]  # nor runs Packer
        region="us-east-1",
        cli=Cli(),
        reporter=reporter,
        now=time.now,
        clock=time.clock,
        sleep=time.sleep,
        host="ci-1",
    )


def test_a_second_run_waits_with_progress_until_the_first_releases() -> None:
    ssm, time, reporter = LeaseSsm(), Time(), RecordingReporter()
    ssm.parameters[NAME] = held_by("run-0")
    finished_at = 40.0
    sleep = time.sleep

    def sleep_while_the_other_runs(seconds: float) -> None:
        sleep(seconds)
        if time.elapsed >= finished_at:
            ssm.parameters.pop(NAME, None)

    time.sleep = sleep_while_the_other_runs  # type: ignore[method-assign]
    lease = actions(ssm, time, reporter).acquire_lease(
        name=NAME, run_id="run-1", seconds=2 * HOUR, wait=True
    )
    assert lease is not None
    assert lease.run_id == "run-1"
    assert time.elapsed >= finished_at
    assert reporter.lines[0] == (
        "if run run-0 on host ci-2, since 2026-11-21T09:30:00Z is not running any more "
        "(killed), its lease expires at 2026-11-21T11:30:00Z; this frees it now: aws ssm "
        f"delete-parameter --name {NAME} --region us-east-1"
    )
    waiting = reporter.lines[1:]
    assert waiting[0] == (
        "another build of this bake key is running (run run-0 on host ci-2, since "
        "2026-11-21T09:30:00Z); waiting (0 s of 7200 s)"
    )
    assert len(waiting) >= 2  # a line every 15 s while it waits


def test_no_wait_stops_at_once_naming_the_other_run() -> None:
    ssm, time, reporter = LeaseSsm(), Time(), RecordingReporter()
    ssm.parameters[NAME] = held_by("run-0")
    with pytest.raises(BuildInProgress) as caught:
        actions(ssm, time, reporter).acquire_lease(
            name=NAME, run_id="run-1", seconds=2 * HOUR, wait=False
        )
    assert str(caught.value) == (
        "another build of this bake key is running (run run-0 on host ci-2, since "
        "2026-11-21T09:30:00Z); not waiting (--no-wait): rerun later, or without --no-wait "
        "to wait for it; if run run-0 on host ci-2, since 2026-11-21T09:30:00Z is not running "
        "any more (killed), its lease expires at 2026-11-21T11:30:00Z; this frees it now: aws "
        f"ssm delete-parameter --name {NAME} --region us-east-1"
    )
    assert time.elapsed == 0


def test_waiting_ends_at_the_deadline_with_the_holder_named() -> None:
    ssm, time, reporter = LeaseSsm(), Time(), RecordingReporter()
    # A lease that lasts longer than this run waits (its holder asked for more).
    ssm.parameters[NAME] = held_by("run-0", seconds=10 * HOUR)
    with pytest.raises(BuildInProgress, match=r"^gave up after 1 h 0 min: another build .*run-0"):
        actions(ssm, time, reporter).acquire_lease(
            name=NAME, run_id="run-1", seconds=HOUR, wait=True
        )
    assert time.elapsed == HOUR


def test_without_ssm_permissions_the_build_goes_on_and_says_it_is_unguarded() -> None:
    ssm, time, reporter = LeaseSsm(denied=True), Time(), RecordingReporter()
    lease = actions(ssm, time, reporter).acquire_lease(
        name=NAME, run_id="run-1", seconds=HOUR, wait=True
    )
    assert lease is None
    assert reporter.lines[0].startswith("warning: no build lease (ssm:PutParameter")
    assert reporter.lines[0].endswith(
        "another build of this bake key at the same time would bake it too"
    )
