"""The verdict on an update's health: the new instances, the environment against its baseline,
Grey as in progress, and basic health's colours."""

from __future__ import annotations

from ebami.apply.verdict import Baseline, State, judge_basic, judge_enhanced
from ebami.aws.eb_values import Health, InstanceHealth

COLORS = {
    "Ok": "Green",
    "Info": "Green",
    "Warning": "Yellow",
    "Degraded": "Red",
    "Severe": "Red",
    "Pending": "Grey",
    "NoData": "Grey",
    "Unknown": "Grey",
    "Suspended": "Grey",
}


def health(status: str, *causes: str) -> Health:
    return Health(COLORS[status], status, causes)


def instances(*statuses: str, prefix: str = "i-new") -> list[InstanceHealth]:
    return [
        InstanceHealth(f"{prefix}-{n}", COLORS[status], status) for n, status in enumerate(statuses)
    ]


def baseline(status: str, *old: str) -> Baseline:
    return Baseline(
        COLORS[status], status, instances=tuple(instances(*old, prefix="i-old")), enhanced=True
    )


def test_ok_new_instances_in_an_environment_as_healthy_as_before_are_healthy() -> None:
    judged = judge_enhanced(baseline("Ok", "Ok", "Ok"), health("Ok"), instances("Ok", "Ok"))
    assert judged.state is State.HEALTHY
    assert judged.reason == "Green/Ok (was Green/Ok); new instances: 2 Ok"


def test_an_environment_at_warning_before_and_after_is_no_worse() -> None:
    before = baseline("Warning", "Warning", "Ok")
    judged = judge_enhanced(before, health("Warning", "5xx"), instances("Ok", "Ok"))
    assert judged.state is State.HEALTHY


def test_an_environment_worse_than_its_baseline_is_unhealthy() -> None:
    judged = judge_enhanced(
        baseline("Ok", "Ok"), health("Degraded", "90 % of requests fail"), instances("Ok")
    )
    assert judged.state is State.UNHEALTHY
    assert judged.reason == ("environment health Red/Degraded, was Green/Ok: 90 % of requests fail")
    # Warning after Ok is worse too; Ok after Warning is better.
    assert judge_enhanced(baseline("Ok"), health("Warning"), instances("Ok")).state is (
        State.UNHEALTHY
    )
    assert judge_enhanced(baseline("Warning"), health("Ok"), instances("Ok")).state is (
        State.HEALTHY
    )


def test_info_is_healthy_on_a_new_instance_and_on_the_environment() -> None:
    judged = judge_enhanced(baseline("Ok", "Ok"), health("Info"), instances("Info", "Ok"))
    assert judged.state is State.HEALTHY


def test_warning_on_a_new_instance_is_healthy_only_when_the_old_ones_had_it_too() -> None:
    new = [InstanceHealth("i-new-0", "Yellow", "Warning", ("5 % of requests are 5xx",))]
    unhealthy = judge_enhanced(baseline("Ok", "Ok", "Ok"), health("Ok"), new)
    assert unhealthy.state is State.UNHEALTHY
    assert unhealthy.reason == "1 of 1 new instances Warning (i-new-0): 5 % of requests are 5xx"
    assert judge_enhanced(baseline("Warning", "Warning"), health("Warning"), new).state is (
        State.HEALTHY
    )


def test_degraded_or_severe_on_a_new_instance_is_never_healthy() -> None:
    for status in ("Degraded", "Severe"):
        before = baseline("Severe", "Severe", "Severe")  # broken before, just as much
        judged = judge_enhanced(before, health("Severe"), instances(status, "Ok"))
        assert judged.state is State.UNHEALTHY
        assert judged.reason == f"1 of 2 new instances {status} (i-new-0)"


def test_grey_means_in_progress_never_unhealthy() -> None:
    for status in ("Pending", "NoData", "Unknown"):
        judged = judge_enhanced(baseline("Ok", "Ok"), health("Ok"), instances(status, "Ok"))
        assert judged.state is State.IN_PROGRESS
        assert judged.reason == f"new instances 1 {status}"
    judged = judge_enhanced(baseline("Ok", "Ok"), health("Pending"), instances("Ok"))
    assert judged.state is State.IN_PROGRESS
    assert judged.reason == "environment health Grey/Pending"


def test_no_new_instance_yet_is_in_progress() -> None:
    judged = judge_enhanced(baseline("Ok", "Ok"), health("Ok"), [], others=2)
    assert judged.state is State.IN_PROGRESS
    assert judged.reason == "no instance runs the target AMI yet"
    assert judged.to_json()["other_instances"] == 2


def test_grey_the_environment_had_before_is_its_baseline() -> None:
    judged = judge_enhanced(baseline("Suspended"), health("Suspended"), instances("Ok"))
    assert judged.state is State.HEALTHY


def test_unhealthy_wins_over_in_progress() -> None:
    judged = judge_enhanced(baseline("Ok"), health("Pending"), instances("Severe", "Pending"))
    assert judged.state is State.UNHEALTHY
    assert judged.reason == "1 of 2 new instances Severe (i-new-0)"


def test_the_evidence_is_in_the_json() -> None:
    judged = judge_enhanced(baseline("Warning", "Warning"), health("Warning"), instances("Ok"))
    shown = judged.to_json()
    assert shown["state"] == "healthy"
    assert shown["baseline_health"] == "Yellow/Warning"
    assert shown["environment_health"] == {"color": "Yellow", "status": "Warning", "causes": []}
    assert [item["instance_id"] for item in shown["new_instances"]] == ["i-new-0"]
    assert shown["new_instances"][0]["status"] == "Ok"


def test_basic_health_keeps_its_colours() -> None:
    assert judge_basic("Green").state is State.HEALTHY
    assert judge_basic("Red").state is State.UNHEALTHY
    assert judge_basic("Grey").state is State.IN_PROGRESS
    assert judge_basic("Yellow").state is State.IN_PROGRESS
    assert judge_basic("Yellow", Baseline("Green", "")).state is State.IN_PROGRESS


def test_basic_health_yellow_before_and_after_is_no_worse_than_its_baseline() -> None:
    judged = judge_basic("Yellow", Baseline("Yellow", ""))
    assert judged.state is State.HEALTHY
    assert judged.reason == "Yellow (was Yellow): no worse than before the update"
    assert judge_basic("Yellow", Baseline("Red", "")).state is State.HEALTHY
    assert judge_basic("Red", Baseline("Red", "")).state is State.UNHEALTHY


def test_the_baseline_in_one_line() -> None:
    before = Baseline(
        "Yellow", "Warning", ("5 % of requests are 5xx",), tuple(instances("Ok", "Warning")), True
    )
    assert before.describe() == (
        "Yellow/Warning (5 % of requests are 5xx); instances: 1 Ok, 1 Warning"
    )
    assert Baseline("Green").describe() == "Green"
