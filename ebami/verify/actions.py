"""The actions of `ebami verify`, one method per instruction of its plan, and `run_verify`, which
executes a plan and turns what its instructions returned into the report.

Every wait shares one deadline (`--timeout`), started as the run starts. The throwaway
instance is terminated by the plan's clean-up whatever happens: success, failure, timeout,
Ctrl-C or SIGTERM; if the launch itself was cut short, it is found by its run tag.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, Protocol

from ebami import tags
from ebami.aws.ec2 import Instance, InstanceSpec
from ebami.checks import CheckResult, CheckStatus
from ebami.errors import AwsError, Interrupted
from ebami.plan import Executor
from ebami.provenance import utc_timestamp
from ebami.reporting import Reporter
from ebami.verify import checks
from ebami.verify.expectations import Expectations
from ebami.verify.planner import Target, VerifyPlan
from ebami.verify.probing import ProbeSsm, probe_instances
from ebami.verify.reaching import SsmReach, SsmReachEc2, SsmReachSsm
from ebami.verify.report import InstanceReport, TargetKind, VerifyReport
from ebami.waiting import Clock, Deadline, Sleep

Results = dict[str, list[CheckResult]]


class VerifyActionsEc2(SsmReachEc2, Protocol):
    """The EC2 calls `VerifyActions` makes, its `SsmReach`'s included (`ebami.aws.ec2.Ec2`)."""

    def launch_instance(self, spec: InstanceSpec) -> Instance: ...

    def tag_resources(self, resource_ids: list[str], tags: dict[str, str]) -> None: ...

    def find_instances_by_tag(self, key: str, value: str) -> list[Instance]: ...

    def terminate_instances(self, instance_ids: list[str]) -> None: ...


class VerifyActionsSsm(SsmReachSsm, ProbeSsm, Protocol):
    """The SSM calls `VerifyActions` makes: its `SsmReach`'s and `probe_instances`'s."""


class VerifyActions:
    def __init__(
        self,
        *,
        ec2: VerifyActionsEc2,
        ssm: VerifyActionsSsm,
        reporter: Reporter,
        timeout: float,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self._ec2 = ec2
        self._ssm = ssm
        self._reporter = reporter
        self._now = now
        self._deadline = Deadline(timeout, clock=clock, sleep=sleep)

    def launch(self, spec: InstanceSpec) -> Instance:
        instance = self._ec2.launch_instance(spec)
        self._reporter.progress(f"launched {instance.instance_id}")
        return instance

    def check_launched(self, instance: Instance, expected: Expectations) -> Results:
        return self.check_instances([Target(instance, expected, launched=True)])

    def check_instances(self, targets: list[Target] | tuple[Target, ...]) -> Results:
        by_id = {target.instance.instance_id: target for target in targets}
        reach = SsmReach(
            list(targets),
            ec2=self._ec2,
            ssm=self._ssm,
            deadline=self._deadline,
            reporter=self._reporter,
        )
        online = reach.wait()
        results = reach.results
        if online:
            found = probe_instances(
                {instance_id: by_id[instance_id] for instance_id in online},
                ssm=self._ssm,
                deadline=self._deadline,
                reporter=self._reporter,
            )
            for instance_id, content in found.items():
                results[instance_id] += content
        for instance_id, target in by_id.items():
            if target.check_image:
                results[instance_id].insert(
                    0, checks.image_check(target.instance.image_id, target.configured_image)
                )
        return results

    def tag_verified(self, image_id: str, results: Results) -> dict[str, str]:
        """Only an AMI whose every check passed is tagged; one that refuses tags is verified
        all the same (an AMI of another account), with a warning."""
        reports = [
            InstanceReport(instance_id, image_id, True, tuple(found))
            for instance_id, found in results.items()
        ]
        if not reports or not all(report.passed for report in reports):
            self._reporter.detail(f"{image_id} did not pass: not tagged")
            return {}
        verified = {
            tags.VERIFIED: utc_timestamp(self._now()),
            tags.VERIFIED_CHECKS: " ".join(
                check.name for report in reports for check in report.checks if check.passed
            ),
        }
        try:
            self._ec2.tag_resources([image_id], verified)
        except AwsError as exc:
            self._reporter.warn(f"{image_id} passed but was not tagged: {exc.message}")
            return {}
        self._reporter.progress(f"tagged {image_id} {tags.VERIFIED}={verified[tags.VERIFIED]}")
        return verified

    def terminate(self, instance: Instance | None, run_tag: str) -> list[str]:
        """Terminate what this run launched, found by its run tag if the launch was cut short."""
        if instance is not None:
            ids = [instance.instance_id]
        else:
            ids = [
                item.instance_id
                for item in self._ec2.find_instances_by_tag(tags.VERIFY_RUN, run_tag)
            ]
        if ids:
            self._reporter.progress(f"terminating {', '.join(ids)}")
            self._ec2.terminate_instances(ids)
        return ids


def run_verify(plan: VerifyPlan, executor: Executor) -> VerifyReport:
    """Execute the plan; the report of what its instructions found."""
    if plan.refusal is not None:
        ssm = CheckResult(checks.SSM, CheckStatus.FAILED, plan.refusal)
        report = InstanceReport(None, plan.target, False, (ssm,))
        return VerifyReport(plan.kind, plan.target, (report,), plan.notes)
    try:
        outputs = executor.execute(plan.steps)
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted: verify stopped; {_left(plan, executor.outputs)}") from None
    results: Results = outputs.get("results", {})
    if plan.kind is TargetKind.AMI:
        instance: Instance = outputs["instance"]
        reports: tuple[InstanceReport, ...] = (
            InstanceReport(
                instance.instance_id, plan.target, True, tuple(results[instance.instance_id])
            ),
        )
    else:
        reports = tuple(
            InstanceReport(
                target.instance.instance_id,
                target.instance.image_id,
                False,
                tuple(results[target.instance.instance_id]),
            )
            for target in plan.targets
        )
    return VerifyReport(
        plan.kind, plan.target, reports, plan.notes, outputs.get("verified_tags") or {}
    )


def _left(plan: VerifyPlan, outputs: Mapping[str, Any]) -> str:
    if plan.kind is not TargetKind.AMI:
        return "nothing was launched"
    gone = outputs.get("terminated") or []
    return f"terminated {', '.join(gone)}" if gone else "nothing was left running"
