"""Reading the instances over SSM Run Command and judging what was read.

One AWS-RunShellScript command runs the read-only probe on every Online instance; its
invocations are polled until each is final or the deadline passes. What the probe printed is
judged on this machine with the ECS agent's rules (`ebami.verify.instance_checks`).

Not a botocore waiter: SSM's `command_executed` waiter (delay 5 s, 20 attempts) sleeps with
`time.sleep`, so it cannot use the run's injectable clock nor print progress; it waits for one
instance at a time (CommandId and InstanceId), so N instances would be N waits in a row, each
with its own attempts rather than the run's one deadline; and it ends a Failed or TimedOut
invocation as a WaiterError, after which ebami would call GetCommandInvocation again for the
output it judges. One poll over every invocation, on the run's deadline, does all of that.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ebami.aws.ssm import CommandInvocation
from ebami.core.reporting import Reporter
from ebami.core.results import CheckResult, CheckStatus
from ebami.core.waiting import Deadline, poll_until
from ebami.verify import instance_checks, probe_script
from ebami.verify.planner import Target

# How long the probe may run on the instance; it only reads a few small files.
PROBE_EXECUTION_TIMEOUT = 60


class ProbeSsm(Protocol):
    """The SSM calls `probe_instances` makes (`ebami.aws.ssm.Ssm`)."""

    def run_shell_script(
        self,
        instance_ids: Sequence[str],
        lines: Sequence[str],
        *,
        comment: str,
        delivery_timeout: int,
        execution_timeout: int,
    ) -> str: ...

    def command_invocation(self, command_id: str, instance_id: str) -> CommandInvocation | None: ...


def probe_instances(
    targets: dict[str, Target],
    *,
    ssm: ProbeSsm,
    deadline: Deadline,
    reporter: Reporter,
) -> dict[str, list[CheckResult]]:
    """The content checks of each instance in `targets` (all Online), or why there are none."""
    instance_ids = sorted(targets)
    command_id = ssm.run_shell_script(
        instance_ids,
        probe_script.script(),
        comment="ebami verify: read ecs.config and the release files",
        delivery_timeout=int(deadline.remaining) + 1,
        execution_timeout=PROBE_EXECUTION_TIMEOUT,
    )
    reporter.progress(
        f"reading ecs.config and the release files on {', '.join(instance_ids)} over SSM "
        f"(command {command_id})"
    )
    outstanding = set(instance_ids)
    last: dict[str, CommandInvocation | None] = {}
    results: dict[str, list[CheckResult]] = {}

    def look() -> bool | None:
        for instance_id in sorted(outstanding):
            invocation = ssm.command_invocation(command_id, instance_id)
            last[instance_id] = invocation
            if invocation is not None and invocation.final:
                outstanding.discard(instance_id)
                results[instance_id] = judge(invocation, targets[instance_id])
        return True if not outstanding else None

    # SSM needs a moment before the first invocation is known: pause before the first look.
    deadline.pause(0.5)
    if (
        poll_until(
            look,
            deadline,
            waiting_for=lambda: (
                f"waiting for command {command_id} on {', '.join(sorted(outstanding))}"
            ),
            report=reporter.progress,
        )
        is None
    ):
        for instance_id in sorted(outstanding):
            seen = last.get(instance_id)
            status = seen.status if seen else "not yet known to SSM"
            results[instance_id] = [
                CheckResult(
                    instance_checks.PROBE,
                    CheckStatus.FAILED,
                    f"command {command_id} did not finish within --timeout "
                    f"{deadline.seconds:.0f} s (status {status})",
                )
            ]
    return results


def judge(invocation: CommandInvocation, target: Target) -> list[CheckResult]:
    if invocation.status != "Success":
        stderr = invocation.stderr.strip().splitlines()
        said = f": {stderr[-1]}" if stderr else ""
        return [
            CheckResult(
                instance_checks.PROBE,
                CheckStatus.FAILED,
                f"the probe ended {invocation.status} ({invocation.status_details}, exit "
                f"{invocation.response_code}){said}",
            )
        ]
    try:
        evidence = probe_script.parse(invocation.stdout)
    except probe_script.ProbeError as exc:
        return [CheckResult(instance_checks.PROBE, CheckStatus.FAILED, exc.message)]
    return instance_checks.content_checks(evidence, target.expected)
