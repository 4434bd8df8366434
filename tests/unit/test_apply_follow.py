"""Following an update: events once each and in order, success only after health held, the
failures Elastic Beanstalk reports, its own rollback, and the deadline, all on a fake clock."""

from __future__ import annotations

from ebami.apply.follow import Follower
from ebami.apply.outcome import Outcome
from ebami.apply.verdict import Baseline, State
from ebami.aws.eb_values import FAILED, PENDING, ConfigurationSet, Event, InstanceHealth
from ebami.core.waiting import Deadline
from tests.fakes.apply import ENVIRONMENT, EPOCH, Change, ScriptedEb, success
from tests.fakes.clock import FakeClock
from tests.helpers import RecordingReporter

SETTLE = 10.0


def follow(
    eb: ScriptedEb, *, target: str = "ami-0new", deadline: float = 600, **kwargs: object
) -> tuple[object, list[Event], RecordingReporter]:
    shown: list[Event] = []
    reporter = RecordingReporter()
    follower = Follower(eb, reporter, ec2=eb, settle=SETTLE, on_event=shown.append)
    request_id = eb.update_image(ENVIRONMENT, target)
    followed = follower.follow(
        ENVIRONMENT,
        request_id,
        target=target,
        previous="ami-0old",
        deadline=Deadline(deadline, clock=eb.clock, sleep=eb.clock.sleep),
        enhanced_health=True,
        **kwargs,  # type: ignore[arg-type]
    )
    return followed, shown, reporter


def test_success_needs_health_to_hold_for_the_settle_window() -> None:
    clock = FakeClock()
    eb = ScriptedEb(clock, on_update=[success("ami-0new", after=3)])
    followed, shown, reporter = follow(eb)
    assert followed.outcome is Outcome.SUCCEEDED  # type: ignore[attr-defined]
    assert [event.message for event in shown] == [
        "Environment update is starting.",
        "Successfully deployed new configuration to environment.",
        "Environment update completed successfully.",
    ]
    # Ready at 3.5 s, seen at the next poll, then Green held for the whole window.
    assert clock.now >= 3.5 + SETTLE
    assert clock.now <= 3.5 + SETTLE + 5
    assert "prod: health Red/Severe -> Green/Ok" in reporter.lines


def test_health_turning_red_after_a_successful_update_is_a_failure() -> None:
    clock = FakeClock()
    script = success("ami-0new", after=1)
    script.append(Change(4, health=("Red", "Severe"), causes=("ATTRIBUTE on 2 instances",)))
    eb = ScriptedEb(clock, on_update=[script])
    followed, _, _ = follow(eb)
    assert followed.outcome is Outcome.FAILED  # type: ignore[attr-defined]
    assert followed.reason == (  # type: ignore[attr-defined]
        "unhealthy 10 s after the update: 2 of 2 new instances Severe (i-ami-0new-0, "
        "i-ami-0new-1); environment health Red/Severe: ATTRIBUTE on 2 instances"
    )
    # Red must last past the settle window, counted from the end of the update.
    assert clock.now >= 1.5 + SETTLE


def test_a_short_dip_within_the_window_is_no_failure() -> None:
    clock = FakeClock()
    script = success("ami-0new", after=1)
    script += [Change(2, health=("Red", "Severe")), Change(5, health=("Green", "Ok"))]
    eb = ScriptedEb(clock, on_update=[script])
    followed, _, _ = follow(eb)
    assert followed.outcome is Outcome.SUCCEEDED  # type: ignore[attr-defined]
    assert clock.now >= 5 + SETTLE  # the window restarts when health is Green again


def test_a_failure_event_then_elastic_beanstalk_s_own_rollback_is_reverted() -> None:
    clock = FakeClock()
    script = [
        Change(0, status="Updating", messages=(("INFO", "Environment update is starting."),)),
        Change(2, image="ami-0new"),
        Change(3, messages=(("ERROR", "Failed to deploy configuration."),)),
        Change(6, image="ami-0old", messages=(
            ("WARN", "The environment was reverted to the previous configuration setting."),)),
        Change(7, status="Ready", messages=(
            ("ERROR", "Update environment operation is complete, but with errors."),)),
    ]  # fmt: skip
    eb = ScriptedEb(clock, on_update=[script])
    followed, shown, _ = follow(eb)
    assert followed.outcome is Outcome.REVERTED  # type: ignore[attr-defined]
    assert followed.reason == "Failed to deploy configuration."  # type: ignore[attr-defined]
    # Followed to the end, not fought: every event printed, nothing else called.
    assert len(shown) == 4
    assert [call for call, _ in eb.calls] == ["update_image"]


def test_a_failure_that_leaves_the_new_ami_is_failed() -> None:
    clock = FakeClock()
    script = [
        Change(0, status="Updating"),
        Change(1, image="ami-0new", status="Ready",
               messages=(("WARN", "Update environment operation is complete, but with errors."),)),
    ]  # fmt: skip
    followed, _, _ = follow(ScriptedEb(clock, on_update=[script]))
    assert followed.outcome is Outcome.FAILED  # type: ignore[attr-defined]


def test_a_failed_deployment_status_or_another_image_is_failed() -> None:
    clock = FakeClock()
    script = success("ami-0new")
    script.append(Change(1.5, drafts=(ConfigurationSet(FAILED, "ami-0new"),)))
    followed, _, _ = follow(ScriptedEb(clock, on_update=[script]))
    assert followed.outcome is Outcome.FAILED  # type: ignore[attr-defined]
    assert followed.reason == (  # type: ignore[attr-defined]
        "the configuration draft naming ami-0new failed to deploy (DeploymentStatus failed)"
    )

    clock = FakeClock()
    followed, _, _ = follow(ScriptedEb(clock, on_update=[success("ami-0other")]))
    assert followed.reason == (  # type: ignore[attr-defined]
        "the update ended with ImageId ami-0other, not ami-0new"
    )


def test_the_deadline_ends_a_stuck_update_and_no_wait_passes_it() -> None:
    clock = FakeClock()
    stuck = [Change(0, status="Updating", abortable=True,
                    messages=(("INFO", "Environment update is starting."),))]  # fmt: skip
    followed, _, reporter = follow(ScriptedEb(clock, on_update=[stuck]), deadline=120)
    assert followed.outcome is Outcome.TIMED_OUT  # type: ignore[attr-defined]
    assert clock.now == 120
    assert followed.reason == (  # type: ignore[attr-defined]
        "the update did not finish within 120 s (status Updating, health Red/Severe)"
    )
    # Progress while waiting, paced.
    assert any(line.startswith("prod: Updating, health Red/Severe (") for line in reporter.lines)


def test_ready_without_the_update_s_final_event_is_not_the_end() -> None:
    clock = FakeClock()
    # Ready at once (the update has not shown yet), its events later.
    script = [Change(0, status="Ready"), *[
        Change(change.at + 4, change.status, change.health, change.image, change.messages)
        for change in success("ami-0new")
    ]]  # fmt: skip
    followed, _, _ = follow(ScriptedEb(clock, on_update=[script]))
    assert followed.outcome is Outcome.SUCCEEDED  # type: ignore[attr-defined]
    assert clock.now >= 5.5 + SETTLE


def test_without_required_health_a_way_back_ends_when_it_is_back() -> None:
    clock = FakeClock()
    script = success("ami-0new")
    script.append(Change(1.5, health=("Red", "Severe")))
    followed, _, _ = follow(ScriptedEb(clock, on_update=[script]), require_health=False)
    assert followed.outcome is Outcome.SUCCEEDED  # type: ignore[attr-defined]
    assert followed.reason == "Ready on ami-0new, health Red/Severe"  # type: ignore[attr-defined]


def test_events_are_reported_once_each_in_order() -> None:
    clock = FakeClock()
    script = [
        Change(0, status="Updating", messages=(("INFO", "a"), ("INFO", "b"))),
        Change(0.2, messages=(("INFO", "c"),)),
        Change(3, image="ami-0new", health=("Green", "Ok"), status="Ready",
               messages=(("INFO", "Environment update completed successfully."),)),
    ]  # fmt: skip
    _, shown, _ = follow(ScriptedEb(clock, on_update=[script]))
    messages = [event.message for event in shown]
    assert messages == ["a", "b", "c", "Environment update completed successfully."]
    assert [event.date for event in shown] == sorted(event.date for event in shown)


def test_a_way_back_to_a_failing_environment_is_back_despite_its_failure_events() -> None:
    clock = FakeClock()
    script = [
        Change(0, status="Updating", messages=(("INFO", "Environment update is starting."),)),
        Change(1, image="ami-0new", messages=(("ERROR", "Failed to deploy configuration."),)),
        Change(2, status="Ready", messages=(
            ("ERROR", "Update environment operation is complete, but with errors."),)),
    ]  # fmt: skip
    followed, _, _ = follow(ScriptedEb(clock, on_update=[script]), require_health=False)
    assert followed.outcome is Outcome.SUCCEEDED  # type: ignore[attr-defined]
    assert followed.reason == (  # type: ignore[attr-defined]
        "Ready on ami-0new, health Red/Severe (the update reported: Failed to deploy "
        "configuration.)"
    )
    # Health still required: the same is a failure.
    followed, _, _ = follow(ScriptedEb(FakeClock(), on_update=[script]))
    assert followed.outcome is Outcome.FAILED  # type: ignore[attr-defined]


def test_keep_following_polls_until_its_deadline_with_the_injected_sleep() -> None:
    from contextlib import nullcontext

    from ebami.apply.events import EventStream, keep_following

    clock = FakeClock()
    eb = ScriptedEb(clock, on_update=[success("ami-0new", after=3)])
    eb.update_image(ENVIRONMENT, "ami-0new")
    shown: list[Event] = []
    bounds: list[float] = []

    def bounded(seconds: float) -> nullcontext[None]:
        bounds.append(seconds)
        return nullcontext()

    stream = EventStream(eb, ENVIRONMENT, shown.append, request_id="req-1")
    keep_following(stream, bounded=bounded, poll_seconds=120, sleep=clock.sleep,
                   until=Deadline(20, clock=clock, sleep=clock.sleep))  # fmt: skip
    assert clock.now == 20  # never slept past the deadline
    assert [event.message for event in shown][-1] == "Environment update completed successfully."
    assert len(shown) == 3  # each event once, though polled again and again
    assert set(bounds) == {120}
    assert len(bounds) >= 4


# --- the verdict on enhanced health: new instances, the baseline, Grey as in progress ---------


def starting(**kwargs: object) -> Change:
    return Change(0, status="Updating", abortable=True,
                  messages=(("INFO", "Environment update is starting."),), **kwargs)  # type: ignore[arg-type]  # fmt: skip


def completed(at: float, **kwargs: object) -> Change:
    return Change(at, status="Ready", abortable=False,
                  messages=(("INFO", "Environment update completed successfully."),), **kwargs)  # type: ignore[arg-type]  # fmt: skip


def old_instances(status: str, color: str) -> tuple[InstanceHealth, ...]:
    return tuple(InstanceHealth(f"i-ami-0old-{n}", color, status) for n in range(2))


def test_an_environment_at_warning_before_and_after_with_healthy_new_instances_succeeds() -> None:
    clock = FakeClock()
    script = [
        starting(health=("Grey", "Pending"), instances=("Grey", "Pending")),
        Change(2, image="ami-0new", health=("Green", "Info"), instances=("Grey", "NoData")),
        completed(3),
        Change(4, health=("Yellow", "Warning"), instances=("Green", "Ok"),
               causes=("3 % of the requests are erroring with HTTP 5xx",)),
    ]  # fmt: skip
    eb = ScriptedEb(clock, state=("Yellow", "Warning"), on_update=[script])
    before = Baseline("Yellow", "Warning", ("3 % 5xx",), old_instances("Ok", "Green"), True)
    followed, _, _ = follow(eb, baseline=before)
    assert followed.outcome is Outcome.SUCCEEDED  # type: ignore[attr-defined]
    assert followed.reason == (  # type: ignore[attr-defined]
        "Yellow/Warning (was Yellow/Warning); new instances: 2 Ok, held for 10 s"
    )
    assert clock.now >= 4 + SETTLE
    evidence = followed.to_json()["verdict"]  # type: ignore[attr-defined]
    assert evidence["state"] == "healthy"
    assert [item["instance_id"] for item in evidence["new_instances"]] == [
        "i-ami-0new-0",
        "i-ami-0new-1",
    ]


def test_an_environment_worse_than_its_baseline_fails_after_the_settle_window() -> None:
    clock = FakeClock()
    script = success("ami-0new")
    script.append(Change(2, health=("Red", "Degraded"), instances=("Green", "Ok"),
                         causes=("Load balancer reports 40 % 5xx",)))  # fmt: skip
    eb = ScriptedEb(clock, state=("Green", "Ok"), on_update=[script])
    before = Baseline("Green", "Ok", (), old_instances("Ok", "Green"), True)
    followed, _, _ = follow(eb, baseline=before)
    assert followed.outcome is Outcome.FAILED  # type: ignore[attr-defined]
    assert followed.reason == (  # type: ignore[attr-defined]
        "unhealthy 10 s after the update: environment health Red/Degraded, was Green/Ok: Load "
        "balancer reports 40 % 5xx"
    )
    assert 1.5 + SETTLE <= clock.now <= 1.5 + SETTLE + 5


def test_grey_after_the_update_is_waited_for_past_the_settle_window_never_failed() -> None:
    clock = FakeClock()
    script = [
        starting(health=("Grey", "Pending")),
        Change(1, image="ami-0new", instances=("Grey", "NoData")),
        completed(1.5),
        Change(40, health=("Green", "Ok"), instances=("Green", "Ok")),
    ]
    eb = ScriptedEb(clock, state=("Green", "Ok"), on_update=[script])
    followed, _, _ = follow(eb, baseline=Baseline("Green", "Ok", enhanced=True))
    assert followed.outcome is Outcome.SUCCEEDED  # type: ignore[attr-defined]
    assert clock.now >= 40 + SETTLE


def test_grey_up_to_the_deadline_times_out_with_what_it_waited_for() -> None:
    clock = FakeClock()
    script = [starting(), Change(1, image="ami-0new", health=("Grey", "Pending")), completed(1.5)]
    eb = ScriptedEb(clock, state=("Green", "Ok"), on_update=[script])
    followed, _, _ = follow(eb, deadline=60, baseline=Baseline("Green", "Ok", enhanced=True))
    assert followed.outcome is Outcome.TIMED_OUT  # type: ignore[attr-defined]
    assert followed.reason == (  # type: ignore[attr-defined]
        "the update did not finish within 60 s (status Ready, health Grey/Pending); environment "
        "health Grey/Pending; new instances 2 Pending"
    )


def test_new_instances_are_those_ec2_says_run_the_target_ami() -> None:
    clock = FakeClock()
    # The configuration names the new AMI at once; the instances are replaced only at 20 s.
    script = [
        starting(),
        Change(1, image="ami-0new", running="ami-0old", health=("Green", "Ok")),
        completed(1.5),
        Change(20, running="ami-0new"),
    ]
    eb = ScriptedEb(clock, state=("Green", "Ok"), on_update=[script])
    followed, _, _ = follow(eb, baseline=Baseline("Green", "Ok", enhanced=True))
    assert followed.outcome is Outcome.SUCCEEDED  # type: ignore[attr-defined]
    assert clock.now >= 20 + SETTLE


def test_attribute_failures_on_new_instances_still_fail_the_update() -> None:
    clock = FakeClock()
    attribute = (
        'Encountered error starting new ECS task: { "failures": [ { "reason": "ATTRIBUTE" } ] }'
    )
    script = [
        starting(),
        Change(1, image="ami-0new", health=("Red", "Severe"),
               messages=(("ERROR", attribute),)),
        completed(2),
    ]  # fmt: skip
    eb = ScriptedEb(clock, state=("Green", "Ok"), on_update=[script])
    followed, _, _ = follow(eb, baseline=Baseline("Green", "Ok", enhanced=True))
    assert followed.outcome is Outcome.FAILED  # type: ignore[attr-defined]
    assert followed.reason == attribute  # type: ignore[attr-defined]
    # The health the failure left is the record's evidence.
    judgement = followed.judgement  # type: ignore[attr-defined]
    assert judgement.state is State.UNHEALTHY
    assert [item.status for item in judgement.new_instances] == ["Severe", "Severe"]


def test_an_instance_ec2_does_not_show_yet_does_not_hide_the_others() -> None:
    clock = FakeClock()
    script = [starting(), Change(1, image="ami-0new", health=("Green", "Ok")), completed(1.5)]
    eb = ScriptedEb(clock, state=("Green", "Ok"), on_update=[script], unseen={"i-ami-0new-1"})
    followed, _, _ = follow(eb, baseline=Baseline("Green", "Ok", enhanced=True))
    assert followed.outcome is Outcome.SUCCEEDED  # type: ignore[attr-defined]
    judgement = followed.judgement  # type: ignore[attr-defined]
    assert [item.instance_id for item in judgement.new_instances] == ["i-ami-0new-0"]


# --- configuration sets as DescribeConfigurationSettings gives them -----------------------------


def test_a_pending_draft_naming_the_target_is_in_progress_not_success() -> None:
    clock = FakeClock()
    pending = (ConfigurationSet(PENDING, "ami-0new"),)
    script = [
        starting(drafts=pending),
        # Ready, its final event filed, the draft not deployed yet: in progress.
        completed(1.5, health=("Green", "Ok")),
        Change(30, image="ami-0new", drafts=()),
    ]
    eb = ScriptedEb(clock, state=("Green", "Ok"), on_update=[script])
    followed, _, _ = follow(eb, baseline=Baseline("Green", "Ok", enhanced=True))
    assert followed.outcome is Outcome.SUCCEEDED  # type: ignore[attr-defined]
    assert clock.now >= 30 + SETTLE


def test_a_failed_draft_naming_the_target_is_a_failed_deployment() -> None:
    clock = FakeClock()
    script = [
        starting(drafts=(ConfigurationSet(PENDING, "ami-0new"),)),
        completed(2, drafts=(ConfigurationSet(FAILED, "ami-0new"),)),
    ]
    eb = ScriptedEb(clock, state=("Green", "Ok"), image="ami-0new", on_update=[script])
    followed, _, _ = follow(eb)
    assert followed.outcome is Outcome.FAILED  # type: ignore[attr-defined]
    assert followed.reason == (  # type: ignore[attr-defined]
        "the configuration draft naming ami-0new failed to deploy (DeploymentStatus failed)"
    )


def test_a_stale_failed_draft_of_an_earlier_update_does_not_fail_this_one() -> None:
    clock = FakeClock()
    stale = (ConfigurationSet(FAILED, "ami-0older"),)
    eb = ScriptedEb(clock, state=("Green", "Ok"), drafts=stale, on_update=[success("ami-0new")])
    followed, _, _ = follow(eb, baseline=Baseline("Green", "Ok", enhanced=True))
    assert followed.outcome is Outcome.SUCCEEDED  # type: ignore[attr-defined]


# --- events that show late and out of order ---------------------------------------------------


def test_an_event_that_shows_after_newer_ones_is_printed_once_and_not_lost() -> None:
    clock = FakeClock()
    script = [
        starting(),
        Change(1, messages=(("INFO", "Added instance [i-1] to your environment."),)),
        # Dated 0.5 s, before the event above, visible only from 3 s on.
        Change(3, late=2.5, messages=(("INFO", "Created security group named: sg-1"),)),
        Change(4, image="ami-0new", health=("Green", "Ok")),
        completed(5),
    ]
    eb = ScriptedEb(clock, state=("Green", "Ok"), on_update=[script])
    followed, shown, _ = follow(eb, baseline=Baseline("Green", "Ok", enhanced=True))
    assert followed.outcome is Outcome.SUCCEEDED  # type: ignore[attr-defined]
    assert [event.message for event in shown] == [
        "Environment update is starting.",
        "Added instance [i-1] to your environment.",
        "Created security group named: sg-1",
        "Environment update completed successfully.",
    ]
    assert shown[2].date < shown[1].date  # late, and printed when it showed


def test_events_of_one_poll_are_printed_in_date_order_each_once() -> None:
    from datetime import timedelta

    from ebami.apply.events import LOOKBACK, EventStream

    class LateEb:
        """Answers every event visible so far from `since` on, in an order of its own."""

        def __init__(self) -> None:
            self.visible: list[Event] = []
            self.asked: list[object] = []

        def events(self, environment: object, *, request_id: object = None,
                   since: object = None, limit: int = 1000) -> list[Event]:  # fmt: skip
            self.asked.append(since)
            return [e for e in reversed(self.visible) if since is None or e.date >= since]  # type: ignore[operator]

    def at(seconds: float, message: str) -> Event:
        return Event(EPOCH + timedelta(seconds=seconds), message, "INFO", "req-1", "prod")

    eb = LateEb()
    shown: list[Event] = []
    stream = EventStream(eb, ENVIRONMENT, shown.append, request_id="req-1")
    eb.visible = [at(1, "a"), at(3, "c")]
    stream.poll()
    eb.visible += [at(2, "b"), at(2.5, "b again")]  # older than c, shown after it
    stream.poll()
    eb.visible += [at(4, "d")]
    stream.poll()
    stream.poll()
    assert [event.message for event in shown] == ["a", "c", "b", "b again", "d"]
    # Each poll after the first asks from the look-back before the newest event seen.
    assert eb.asked[1:] == [at(3, "").date - LOOKBACK, at(3, "").date - LOOKBACK,
                            at(4, "").date - LOOKBACK]  # fmt: skip
    # Two events of one date and message that differ in request are two events.
    eb.visible += [Event(at(4, "").date, "d", "INFO", "req-2", "prod")]
    assert [event.request_id for event in stream.poll()] == ["req-2"]


def test_a_failure_event_within_the_settle_window_has_the_configuration_read_again() -> None:
    # The update ended on the target (the configuration read then names it); within the settle
    # window a failure event comes and Elastic Beanstalk rolls the configuration back: that is
    # its own rollback (reverted), judged on the configuration read after the failure.
    clock = FakeClock()
    script = success("ami-0new", after=1)
    script += [
        Change(3, image="ami-0old", messages=(
            ("ERROR", "Failed to deploy configuration."),
            ("WARN", "The environment was reverted to the previous configuration setting."),)),
    ]  # fmt: skip
    eb = ScriptedEb(clock, on_update=[script])
    followed, _, _ = follow(eb)
    assert followed.outcome is Outcome.REVERTED  # type: ignore[attr-defined]
    assert followed.image_id == "ami-0old"  # type: ignore[attr-defined]


def test_the_settle_window_runs_while_a_late_final_event_is_on_its_way() -> None:
    """Ready and healthy on the target, the final event filed late: the window starts at Ready,
    and the success is ruled when the event shows, never before it."""
    clock = FakeClock()
    shows = 3 + SETTLE + 2  # the final event shows after a whole window has passed
    script = [
        Change(0, status="Updating", messages=(("INFO", "Environment update is starting."),)),
        Change(3, status="Ready", image="ami-0new", health=("Green", "Ok")),
        Change(shows, messages=(("INFO", "Environment update completed successfully."),)),
    ]
    followed, _, _ = follow(ScriptedEb(clock, on_update=[script]))
    assert followed.outcome is Outcome.SUCCEEDED  # type: ignore[attr-defined]
    assert shows <= clock.now < shows + SETTLE / 2 + 1


def test_without_an_event_of_the_update_ready_does_not_start_the_window() -> None:
    """A Ready from before the update began (no event of it shown yet) is not its end: the
    window starts only at the Ready that follows the update's events."""
    clock = FakeClock()
    script = [
        Change(0, status="Ready"),
        Change(4, image="ami-0new", health=("Green", "Ok")),
        Change(30, status="Updating", messages=(("INFO", "Environment update is starting."),)),
        Change(31, status="Ready",
               messages=(("INFO", "Environment update completed successfully."),)),
    ]  # fmt: skip
    followed, _, _ = follow(ScriptedEb(clock, on_update=[script]))
    assert followed.outcome is Outcome.SUCCEEDED  # type: ignore[attr-defined]
    assert clock.now >= 31 + SETTLE
