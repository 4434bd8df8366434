"""A sample of the minimality sweep (tests/support/iam_sweep.py; `benchmarks/iam_sweep.py` runs
all of it): each sampled action of a job's policy, taken out of the job's user, makes some run
of the job fail with the one line naming it, or makes a warning name it (an optional read), or
is asked only on a path the table names. An action no run asks for fails the test: it must go
from the table (`ebami/iam/calls.py`).

The sample: `EBAMI_IAM_SWEEP_SAMPLE` actions (default 4), chosen by `EBAMI_IAM_SWEEP_SEED`;
where `CI` is set the seed is fixed (0), elsewhere it is the day of the year, so that local runs
go round the table over the days while CI stays the same run to run."""

from __future__ import annotations

import datetime
import os
import random
from collections.abc import Iterator

import pytest

from ebami.iam.calls import JOBS
from tests.support.iam_sweep import SCENARIOS, World, actions, enforced_world, probe

GOOD = {"needed", "optional", "kept"}


def _seed() -> int:
    given = os.environ.get("EBAMI_IAM_SWEEP_SEED")
    if given:
        return int(given)
    return 0 if os.environ.get("CI") else datetime.date.today().timetuple().tm_yday


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with enforced_world(tmp_path_factory.mktemp("sweep")) as made:
        yield made


def test_each_sampled_action_is_asked_by_some_run(swept: World) -> None:
    jobs = list(dict.fromkeys(item.job for item in SCENARIOS))
    pairs = [(job, action) for job in jobs for action in actions(swept, job)]
    size = int(os.environ.get("EBAMI_IAM_SWEEP_SAMPLE", "4"))
    sample = random.Random(_seed()).sample(pairs, min(size, len(pairs)))  # noqa: S311
    verdicts = [probe(swept, job, action) for job, action in sample]
    wrong = [item for item in verdicts if item.kind not in GOOD]
    assert not wrong, [item.to_json() for item in wrong]


def test_every_job_with_a_policy_has_runs_or_is_made_of_others() -> None:
    """The sweep covers each job by its runs; `nightly` is check, build and verify together."""
    covered = {item.job for item in SCENARIOS}
    assert covered | {"nightly"} == set(JOBS)
    nightly = {action for call in JOBS["nightly"] for action in call.iam_actions}
    parts = {
        action
        for job in ("check", "build", "verify")
        for call in JOBS[job]
        for action in call.iam_actions
    }
    assert nightly == parts


def test_the_sample_is_the_same_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EBAMI_IAM_SWEEP_SEED", raising=False)
    monkeypatch.setenv("CI", "true")
    assert _seed() == 0
    monkeypatch.setenv("EBAMI_IAM_SWEEP_SEED", "7")
    assert _seed() == 7
