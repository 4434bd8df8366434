"""`ebami verify` as a pipeline: plan (read-only), then reach the instances over SSM and check.

`plan_*` only read: the AMI and what it should deliver, or the instances to check (given, or
an environment's). `run` launches the throwaway instance for an AMI, waits for SSM against one
deadline, runs the read-only probe through AWS-RunShellScript, judges what it read, and
terminates the instance whatever happens: success, failure, timeout, Ctrl-C or SIGTERM. Only
an AMI that passed every check gets the `ebami:verified` tags.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from ebami import tags as tag_names
from ebami.aws.ec2 import Ec2, Image, Instance, InstanceSpec
from ebami.aws.elasticbeanstalk import ElasticBeanstalk
from ebami.aws.ssm import CommandInvocation, ManagedInstance, Ssm
from ebami.checks import CheckResult, CheckStatus
from ebami.errors import AwsError, InputError, Interrupted, NotFoundError
from ebami.interrupts import held, interruptible
from ebami.provenance import utc_timestamp
from ebami.reporting import Reporter
from ebami.verify import checks, probe, reach
from ebami.verify.expectations import Expectations
from ebami.verify.report import InstanceReport, TargetKind, VerifyReport
from ebami.waiting import Clock, Deadline, Every, Sleep, intervals

RUN_TAG = tag_names.VERIFY_RUN
# How long the probe may run on the instance; it only reads a few small files.
PROBE_EXECUTION_TIMEOUT = 60
PROGRESS_EVERY = 15.0
DEFAULT_TIMEOUT = 600.0


@dataclass(frozen=True)
class VerifyOptions:
    """What to require and how to launch; refused as made when it cannot work."""

    default_drivers: tuple[str, ...]
    required: tuple[str, ...] | None = None
    timeout: float = DEFAULT_TIMEOUT
    instance_type: str | None = None
    instance_profile: str | None = None
    subnet_id: str | None = None

    def __post_init__(self) -> None:
        if not 0 < self.timeout <= 24 * 3600:
            raise InputError(
                f"--timeout {self.timeout:g} is out of range: give seconds from 1 to 86400"
            )


@dataclass(frozen=True)
class Target:
    """One instance to check, what its AMI should deliver, and the AMI it should run."""

    instance: Instance
    expected: Expectations
    configured_image: str | None = None
    check_image: bool = False
    # Launched by this run, with the instance profile ebami gave it.
    launched: bool = False


@dataclass(frozen=True)
class VerifyPlan:
    kind: TargetKind
    target: str
    expected: Expectations | None = None
    launch: InstanceSpec | None = None
    # Why the AMI cannot be verified over SSM at all (then nothing is launched).
    refusal: str | None = None
    targets: tuple[Target, ...] = ()
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "dry_run": True,
            "target": {"kind": self.kind.value, "id": self.target},
            "notes": list(self.notes),
        }
        if self.expected is not None:
            summary["expected"] = _expected_json(self.expected)
        if self.refusal:
            summary["refusal"] = self.refusal
        if self.launch is not None:
            summary["launch"] = {
                "image_id": self.launch.image_id,
                "instance_type": self.launch.instance_type,
                "instance_profile": self.launch.instance_profile,
                "subnet_id": self.launch.subnet_id,
                "imdsv2": "required",
                "tags": dict(self.launch.tags),
            }
        if self.targets:
            summary["instances"] = [
                {
                    "instance_id": target.instance.instance_id,
                    "image_id": target.instance.image_id,
                    "state": target.instance.state,
                    "configured_image": target.configured_image,
                    "expected": _expected_json(target.expected),
                }
                for target in self.targets
            ]
        return summary


def _expected_json(expected: Expectations) -> dict[str, Any]:
    return {
        "os_family": expected.family.value if expected.family else None,
        "os_family_source": expected.family_source,
        "release": expected.release.value,
        "release_source": expected.release.source,
        "drivers": list(expected.drivers),
        "drivers_source": expected.drivers_source,
        "ssm_agent": expected.ssm_agent,
        "ssm_agent_source": expected.ssm_agent_source,
    }


def instance_type_for(image: Image) -> str:
    """The cheapest type the AMI can boot on: Graviton for arm64, Nitro when it has ENA."""
    if image.architecture == "arm64":
        return "t4g.nano"
    return "t3.nano" if image.ena_support else "t2.nano"


class Verifier:
    def __init__(
        self,
        *,
        ec2: Ec2,
        ssm: Ssm,
        eb: Callable[[], ElasticBeanstalk],
        reporter: Reporter,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        run_id: Callable[[], str] = lambda: uuid.uuid4().hex[:16],
    ) -> None:
        self._ec2 = ec2
        self._ssm = ssm
        self._eb = eb
        self._reporter = reporter
        self._clock = clock
        self._sleep = sleep
        self._now = now
        self._run_id = run_id

    # --- plans: read only -------------------------------------------------------------------

    def plan_ami(self, image_id: str, options: VerifyOptions) -> VerifyPlan:
        if not options.instance_profile:
            raise InputError(
                "verify launches an instance that SSM must reach: pass --instance-profile NAME "
                "(its role needs AmazonSSMManagedInstanceCore) or set instance_profile in "
                "ebami.toml"
            )
        image = self._ec2.get_image(image_id)
        if image.state != "available":
            raise NotFoundError(f"--ami {image_id} is {image.state}, not available")
        expected = Expectations.of(
            image, required=options.required, default_drivers=options.default_drivers
        )
        if expected.ssm_agent is False:
            return VerifyPlan(
                TargetKind.AMI, image_id, expected=expected, refusal=reach.no_agent(expected)
            )
        spec = InstanceSpec(
            image_id=image_id,
            instance_type=options.instance_type or instance_type_for(image),
            instance_profile=options.instance_profile,
            subnet_id=options.subnet_id,
            tags={
                "Name": f"ebami-verify {image_id}",
                tag_names.MANAGED: "true",
                tag_names.PURPOSE: "verify",
                RUN_TAG: self._run_id(),
            },
        )
        return VerifyPlan(TargetKind.AMI, image_id, expected=expected, launch=spec)

    def plan_instances(self, instance_ids: list[str], options: VerifyOptions) -> VerifyPlan:
        instances = self._ec2.describe_instances(instance_ids)
        targets = tuple(
            Target(instance, expected)
            for instance, expected in self._expectations(instances, options)
        )
        return VerifyPlan(TargetKind.INSTANCE, ", ".join(instance_ids), targets=targets)

    def plan_environment(
        self, name: str, application: str | None, options: VerifyOptions
    ) -> VerifyPlan:
        eb = self._eb()
        environment = eb.get_environment(name, application)
        configured = eb.image_id(environment)
        instance_ids = eb.instance_ids(environment)
        notes = [
            f"{environment.application}/{environment.name}: {environment.status}, health "
            f"{environment.health or 'unknown'}, configured AMI {configured or 'none'}"
        ]
        if environment.status != "Ready":
            notes.append(f"the environment is {environment.status}: its instances may be changing")
        if not instance_ids:
            notes.append("the environment has no instances to check")
        instances = self._ec2.describe_instances(instance_ids) if instance_ids else []
        targets = tuple(
            Target(instance, expected, configured_image=configured, check_image=True)
            for instance, expected in self._expectations(instances, options)
        )
        return VerifyPlan(
            TargetKind.ENVIRONMENT,
            environment.name,
            targets=targets,
            notes=tuple(notes),
        )

    def _expectations(
        self, instances: list[Instance], options: VerifyOptions
    ) -> list[tuple[Instance, Expectations]]:
        by_image: dict[str, Expectations] = {}
        for image_id in sorted({instance.image_id for instance in instances}):
            try:
                image = self._ec2.get_image(image_id)
            except NotFoundError:
                by_image[image_id] = Expectations.unknown(
                    image_id, required=options.required, default=options.default_drivers
                )
                continue
            by_image[image_id] = Expectations.of(
                image, required=options.required, default_drivers=options.default_drivers
            )
        return [(instance, by_image[instance.image_id]) for instance in instances]

    # --- run -----------------------------------------------------------------------------------

    def run(self, plan: VerifyPlan, options: VerifyOptions) -> VerifyReport:
        if plan.kind is TargetKind.AMI:
            return self._run_ami(plan, options)
        deadline = Deadline(options.timeout, clock=self._clock, sleep=self._sleep)
        with interruptible():
            try:
                results = self._check(list(plan.targets), deadline)
            except KeyboardInterrupt:
                raise Interrupted("interrupted: verify stopped; nothing was launched") from None
        reports = tuple(
            InstanceReport(
                target.instance.instance_id,
                target.instance.image_id,
                False,
                tuple(results[target.instance.instance_id]),
            )
            for target in plan.targets
        )
        return VerifyReport(plan.kind, plan.target, reports, plan.notes)

    def _run_ami(self, plan: VerifyPlan, options: VerifyOptions) -> VerifyReport:
        expected = plan.expected
        if plan.refusal or plan.launch is None or expected is None:
            ssm = CheckResult(checks.SSM, CheckStatus.FAILED, plan.refusal or "nothing to launch")
            report = InstanceReport(None, plan.target, False, (ssm,))
            return VerifyReport(TargetKind.AMI, plan.target, (report,), plan.notes)
        deadline = Deadline(options.timeout, clock=self._clock, sleep=self._sleep)
        launched: Instance | None = None
        interrupted = False
        with interruptible():
            try:
                self._reporter.progress(
                    f"launching a {plan.launch.instance_type} instance of {plan.target} "
                    f"(profile {plan.launch.instance_profile}, IMDSv2 required)"
                )
                launched = self._ec2.launch_instance(plan.launch)
                self._reporter.progress(f"launched {launched.instance_id}")
                results = self._check([Target(launched, expected, launched=True)], deadline)
            except KeyboardInterrupt:
                interrupted = True
            finally:
                gone = self._clean_up(launched, plan.launch)
        if interrupted or launched is None:
            left = f"terminated {', '.join(gone)}" if gone else "nothing was left running"
            raise Interrupted(f"interrupted: verify stopped; {left}")
        report = InstanceReport(
            launched.instance_id, plan.target, True, tuple(results[launched.instance_id])
        )
        result = VerifyReport(TargetKind.AMI, plan.target, (report,), plan.notes)
        if not result.passed:
            return result
        tags = {
            tag_names.VERIFIED: utc_timestamp(self._now()),
            tag_names.VERIFIED_CHECKS: " ".join(
                check.name for check in report.checks if check.passed
            ),
        }
        try:
            self._ec2.tag_resources([plan.target], tags)
        except AwsError as exc:
            # Verified all the same; an AMI of another account may refuse tags.
            self._reporter.warn(f"{plan.target} passed but was not tagged: {exc.message}")
            return result
        self._reporter.progress(
            f"tagged {plan.target} {tag_names.VERIFIED}={tags[tag_names.VERIFIED]}"
        )
        return replace(result, verified_tags=tags)

    def _clean_up(self, launched: Instance | None, spec: InstanceSpec) -> list[str]:
        """Terminate what this run launched, found by its run tag if the launch was cut short.

        Ctrl-C and SIGTERM are held back meanwhile; one that arrives is honoured afterwards.
        """
        with held() as received:
            if launched is not None:
                ids = [launched.instance_id]
            else:
                ids = [
                    instance.instance_id
                    for instance in self._ec2.find_instances_by_tag(RUN_TAG, spec.tags[RUN_TAG])
                ]
            if ids:
                self._reporter.progress(f"terminating {', '.join(ids)}")
                self._ec2.terminate_instances(ids)
        if received:
            raise KeyboardInterrupt
        return ids

    # --- reaching the instances and checking them ------------------------------------------------

    def _check(self, targets: list[Target], deadline: Deadline) -> dict[str, list[CheckResult]]:
        results: dict[str, list[CheckResult]] = {}
        by_id = {target.instance.instance_id: target for target in targets}
        online = self._wait_online(by_id, deadline, results)
        if online:
            self._probe(by_id, online, deadline, results)
        for instance_id, target in by_id.items():
            if target.check_image:
                results[instance_id].insert(
                    0, checks.image_check(target.instance.image_id, target.configured_image)
                )
        return results

    def _wait_online(
        self,
        by_id: dict[str, Target],
        deadline: Deadline,
        results: dict[str, list[CheckResult]],
    ) -> dict[str, ManagedInstance]:
        """Wait until SSM has each instance Online; a failed `ssm` check for each that never is.

        Causes known for certain (no profile, no agent, instance gone) fail at once; the
        others are diagnosed when the deadline passes.
        """
        online: dict[str, ManagedInstance] = {}
        waiting = dict(by_id)
        managed: dict[str, ManagedInstance] = {}
        polls = intervals()
        every = Every(PROGRESS_EVERY, clock=self._clock)
        first = True
        while waiting:
            managed = self._ssm.managed_instances(list(waiting))
            for instance_id, info in managed.items():
                if info.ping_status == "Online" and instance_id in waiting:
                    online[instance_id] = info
                    del waiting[instance_id]
            if waiting:
                for instance in self._ec2.describe_instances(list(waiting)):
                    target = waiting[instance.instance_id]
                    waiting[instance.instance_id] = replace(target, instance=instance)
            for instance_id, target in list(waiting.items()):
                cause = (
                    reach.certain_cause(target.instance, target.expected, launched=target.launched)
                    if first
                    else reach.gone(target.instance)
                )
                if cause:
                    results[instance_id] = [CheckResult(checks.SSM, CheckStatus.FAILED, cause)]
                    del waiting[instance_id]
            first = False
            if waiting and deadline.expired:
                for instance_id, target in waiting.items():
                    cause = self._cause(target, managed.get(instance_id), deadline)
                    results[instance_id] = [CheckResult(checks.SSM, CheckStatus.FAILED, cause)]
                break
            if waiting and every.due():
                self._reporter.progress(
                    f"waiting for SSM to reach {', '.join(sorted(waiting))}: "
                    f"{self._ping_summary(waiting, managed)} ({deadline.progress()})"
                )
            if waiting:
                deadline.pause(next(polls))
        for instance_id, info in online.items():
            platform = f", {info.platform}" if info.platform else ""
            results[instance_id] = [
                CheckResult(
                    checks.SSM, CheckStatus.PASSED, f"Online (agent {info.agent_version}{platform})"
                )
            ]
        return online

    @staticmethod
    def _ping_summary(waiting: dict[str, Target], managed: dict[str, ManagedInstance]) -> str:
        states = sorted(
            {
                managed[instance_id].ping_status
                if instance_id in managed
                else f"{target.instance.state}, not registered yet"
                for instance_id, target in waiting.items()
            }
        )
        return "; ".join(states)

    def _cause(self, target: Target, info: ManagedInstance | None, deadline: Deadline) -> str:
        instance = target.instance
        egress = None
        if info is None and instance.subnet_id and instance.state not in reach.GONE_STATES:
            egress = self._ec2.egress(instance.subnet_id, instance.vpc_id)
        return reach.cause_at_deadline(
            reach.Sighting(
                instance, info, target.expected, egress, deadline.elapsed, target.launched
            )
        )

    def _probe(
        self,
        by_id: dict[str, Target],
        online: dict[str, ManagedInstance],
        deadline: Deadline,
        results: dict[str, list[CheckResult]],
    ) -> None:
        instance_ids = sorted(online)
        command_id = self._ssm.run_shell_script(
            instance_ids,
            probe.script(),
            comment="ebami verify: read ecs.config and the release files",
            delivery_timeout=int(deadline.remaining) + 1,
            execution_timeout=PROBE_EXECUTION_TIMEOUT,
        )
        self._reporter.progress(
            f"reading ecs.config and the release files on {', '.join(instance_ids)} over SSM "
            f"(command {command_id})"
        )
        outstanding = set(instance_ids)
        last: dict[str, CommandInvocation | None] = {}
        polls = intervals()
        while outstanding:
            deadline.pause(next(polls))
            for instance_id in sorted(outstanding):
                invocation = self._ssm.command_invocation(command_id, instance_id)
                last[instance_id] = invocation
                if invocation is not None and invocation.final:
                    outstanding.discard(instance_id)
                    results[instance_id] += self._judge(invocation, by_id[instance_id])
            if outstanding and deadline.expired:
                for instance_id in sorted(outstanding):
                    seen = last.get(instance_id)
                    status = seen.status if seen else "not yet known to SSM"
                    results[instance_id].append(
                        CheckResult(
                            checks.PROBE,
                            CheckStatus.FAILED,
                            f"command {command_id} did not finish within --timeout "
                            f"{deadline.seconds:.0f} s (status {status})",
                        )
                    )
                break

    @staticmethod
    def _judge(invocation: CommandInvocation, target: Target) -> list[CheckResult]:
        if invocation.status != "Success":
            stderr = invocation.stderr.strip().splitlines()
            said = f": {stderr[-1]}" if stderr else ""
            return [
                CheckResult(
                    checks.PROBE,
                    CheckStatus.FAILED,
                    f"the probe ended {invocation.status} ({invocation.status_details}, exit "
                    f"{invocation.response_code}){said}",
                )
            ]
        try:
            evidence = probe.parse(invocation.stdout)
        except probe.ProbeError as exc:
            return [CheckResult(checks.PROBE, CheckStatus.FAILED, exc.message)]
        return checks.content_checks(evidence, target.expected)
