"""Waiting until SSM reaches each instance, within the run's deadline.

Causes known for certain (no profile, no agent, instance gone) fail at once; the others are
diagnosed when the deadline passes (`ebami.verify.unreachable`).

An instance this run launched may be unknown to DescribeInstances for a while (EC2's eventual
consistency, `ebami.aws.visibility`): that is "not yet", looked at again on the next round.
An instance the user named that EC2 does not know fails at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

from ebami.aws.ec2_values import Egress, Instance
from ebami.aws.ssm import ManagedInstance
from ebami.aws.visibility import not_visible_yet
from ebami.core.errors import EbamiError
from ebami.core.reporting import Reporter
from ebami.core.results import CheckResult, CheckStatus
from ebami.core.waiting import Deadline, poll_until
from ebami.verify import instance_checks, unreachable
from ebami.verify.planner import Target


class SsmReachEc2(Protocol):
    """The EC2 calls `SsmReach` makes (`ebami.aws.ec2.Ec2`)."""

    def describe_instances(self, instance_ids: list[str]) -> list[Instance]: ...

    def egress(self, subnet_id: str, vpc_id: str) -> Egress: ...


class SsmReachSsm(Protocol):
    """The SSM calls `SsmReach` makes (`ebami.aws.ssm.Ssm`)."""

    def managed_instances(self, instance_ids: Sequence[str]) -> dict[str, ManagedInstance]: ...


class SsmReach:
    """One wait for a set of instances: Online, failed for certain, or diagnosed at the end."""

    def __init__(
        self,
        targets: list[Target],
        *,
        ec2: SsmReachEc2,
        ssm: SsmReachSsm,
        deadline: Deadline,
        reporter: Reporter,
    ) -> None:
        self._ec2 = ec2
        self._ssm = ssm
        self._deadline = deadline
        self._reporter = reporter
        self._waiting = {target.instance.instance_id: target for target in targets}
        self._managed: dict[str, ManagedInstance] = {}
        self._first = True
        self.online: dict[str, ManagedInstance] = {}
        self.results: dict[str, list[CheckResult]] = {}

    def wait(self) -> dict[str, ManagedInstance]:
        """The instances that came Online; a failed `ssm` check in `results` for the others."""
        done = poll_until(
            self._look,
            self._deadline,
            waiting_for=lambda: (
                f"waiting for SSM to reach {', '.join(sorted(self._waiting))}: "
                f"{self._ping_summary()}"
            ),
            report=self._reporter.progress,
        )
        if done is None:
            for instance_id, target in self._waiting.items():
                cause = self._cause(target, self._managed.get(instance_id))
                self.results[instance_id] = [
                    CheckResult(instance_checks.SSM, CheckStatus.FAILED, cause)
                ]
        for instance_id, info in self.online.items():
            platform = f", {info.platform}" if info.platform else ""
            self.results[instance_id] = [
                CheckResult(
                    instance_checks.SSM,
                    CheckStatus.PASSED,
                    f"Online (agent {info.agent_version}{platform})",
                )
            ]
        return self.online

    def _look(self) -> bool | None:
        """One round: who is Online now, who cannot be reached at all. True when none waits."""
        waiting = self._waiting
        self._managed = self._ssm.managed_instances(list(waiting))
        for instance_id, info in self._managed.items():
            if info.ping_status == "Online" and instance_id in waiting:
                self.online[instance_id] = info
                del waiting[instance_id]
        if waiting:
            for instance in self._described(list(waiting.values())):
                waiting[instance.instance_id] = replace(
                    waiting[instance.instance_id], instance=instance
                )
        for instance_id, target in list(waiting.items()):
            cause = (
                unreachable.certain_cause(
                    target.instance, target.expected, launched=target.launched
                )
                if self._first
                else unreachable.gone(target.instance)
            )
            if cause:
                self.results[instance_id] = [
                    CheckResult(instance_checks.SSM, CheckStatus.FAILED, cause)
                ]
                del waiting[instance_id]
        self._first = False
        return True if not waiting else None

    def _described(self, targets: list[Target]) -> list[Instance]:
        """The instances as EC2 describes them now; none yet while EC2 does not show an
        instance this run has just launched."""
        try:
            return self._ec2.describe_instances([target.instance.instance_id for target in targets])
        except EbamiError as exc:
            if not_visible_yet(exc) and all(target.launched for target in targets):
                return []
            raise

    def _ping_summary(self) -> str:
        states = sorted(
            {
                self._managed[instance_id].ping_status
                if instance_id in self._managed
                else f"{target.instance.state}, not registered yet"
                for instance_id, target in self._waiting.items()
            }
        )
        return "; ".join(states)

    def _cause(self, target: Target, info: ManagedInstance | None) -> str:
        instance = target.instance
        egress = None
        if info is None and instance.subnet_id and instance.state not in unreachable.GONE_STATES:
            egress = self._ec2.egress(instance.subnet_id, instance.vpc_id)
        return unreachable.cause_at_deadline(
            unreachable.Sighting(
                instance, info, target.expected, egress, self._deadline.elapsed, target.launched
            )
        )
