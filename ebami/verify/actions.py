"""The actions of `ebami verify`, one method per instruction of its plan (`ebami.verify.run`
executes a plan with them and makes the report).

Every wait shares one deadline (`--timeout`), started as the command starts; the AWS calls of
the run fit it too (the factory bounds the session by it). The throwaway instance is
terminated by the plan's clean-up whatever happens: success, failure, timeout, Ctrl-C or
SIGTERM; if the launch itself was cut short, it is found by its run tag. What could not be
terminated is named with the AWS CLI command that terminates it (`LeftBehind`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Protocol

from ebami.aws.ec2_values import Image, Instance, InstanceSpec
from ebami.core.errors import AwsError, EbamiError, LeftBehind, Leftover
from ebami.core.reporting import Reporter
from ebami.core.results import CheckResult
from ebami.core.times import utc_timestamp
from ebami.core.waiting import Deadline
from ebami.image import tags
from ebami.image.managed import BakeId, managed_images
from ebami.image.stock import StockVerdict, StockVerdicts
from ebami.verify import instance_checks
from ebami.verify.expectations import Expectations
from ebami.verify.planner import Target
from ebami.verify.report import InstanceReport
from ebami.verify.runcommand import ProbeSsm, probe_instances
from ebami.verify.ssm_online import SsmReach, SsmReachEc2, SsmReachSsm

if TYPE_CHECKING:
    from ebami.image.lookup import BaseAmi

Results = dict[str, list[CheckResult]]


class VerifyActionsEc2(SsmReachEc2, Protocol):
    """The EC2 calls `VerifyActions` makes, its `SsmReach`'s included (`ebami.aws.ec2.Ec2`)."""

    def launch_instance(self, spec: InstanceSpec) -> Instance: ...

    def tag_resources(self, resource_ids: list[str], tags: dict[str, str]) -> None: ...

    def find_instances_by_tag(self, key: str, value: str) -> list[Instance]: ...

    def terminate_instances(self, instance_ids: list[str]) -> None: ...


class CopiesEc2(Protocol):
    """The EC2 calls that tag an AMI's copies in another region."""

    def find_own_images_by_tag(self, key: str, value: str) -> list[Image]: ...

    def tag_resources(self, resource_ids: list[str], tags: dict[str, str]) -> None: ...


class VerifyActionsSsm(SsmReachSsm, ProbeSsm, Protocol):
    """The SSM calls `VerifyActions` makes: its `SsmReach`'s and `probe_instances`'s."""


class CliCommands(Protocol):
    """AWS CLI commands for the run's profile and region (`ebami.aws.session.AwsCli`)."""

    def command(self, service: str, operation: str, *args: str) -> str: ...


class VerifyActions:
    def __init__(
        self,
        *,
        ec2: VerifyActionsEc2,
        ssm: VerifyActionsSsm,
        reporter: Reporter,
        deadline: Deadline,
        cli: CliCommands,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        region: str = "",
        copies: Callable[[str], CopiesEc2] | None = None,
        stock: Callable[[], StockVerdicts] | None = None,
    ) -> None:
        """`deadline` is the run's (`--timeout`), shared by every wait; `cli` writes the
        commands that remove what the clean-up could not; `copies(region)` reaches another
        region's EC2 (`region` is this run's); `stock()`: where the verdicts on the platforms'
        own AMIs are remembered."""
        self._ec2 = ec2
        self._ssm = ssm
        self._reporter = reporter
        self._now = now
        self._deadline = deadline
        self._region = region
        self._copies = copies
        self._cli = cli
        self._stock = stock

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
                    0,
                    instance_checks.image_check(target.instance.image_id, target.configured_image),
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

    def tag_copies(
        self,
        image_id: str,
        bake_key: str,
        build_run: str,
        regions: tuple[str, ...],
        verified: dict[str, str],
    ) -> list[str]:
        """Tag this account's AMIs of the same bake key and build run in `regions` (that
        build's copies: the same bytes) with the tags `image_id` just got, and where they come
        from; none when it did not pass. A region that cannot be tagged is a warning: the AMI
        verified stands."""
        if not verified or self._copies is None:
            return []
        tagged: list[str] = []
        copy_tags = {**verified, tags.VERIFIED_COPY_OF: f"{self._region}/{image_id}"}
        bake = BakeId(bake_key, build_run)
        for region in regions:
            try:
                ec2 = self._copies(region)
                found = [
                    copy.image_id
                    for copy in managed_images(ec2.find_own_images_by_tag(tags.BAKE_KEY, bake_key))
                    if copy.image_id != image_id and copy.available and copy.bake == bake
                ]
                if found:
                    ec2.tag_resources(found, copy_tags)
            except AwsError as exc:
                self._reporter.warn(f"{region}: the copies of {image_id} were not tagged: {exc}")
                continue
            if not found:
                self._reporter.detail(f"{region}: no copy of {image_id} (bake key) to tag")
            for copy in found:
                self._reporter.progress(f"tagged {copy} ({region}) {tags.VERIFIED}: a copy")
            tagged += [f"{region}/{copy}" for copy in found]
        return tagged

    def remember_stock(
        self, base: BaseAmi, results: Results | None = None, refusal: str | None = None
    ) -> StockVerdict | None:
        """Remember what the platform version's own AMI allows: the drivers check's finding,
        or (`refusal`) why it cannot be checked. Nothing when the drivers were not read (SSM
        never reached the instance): no verdict is better than a guessed one."""
        found = [
            check
            for checks in (results or {}).values()
            for check in checks
            if check.name == instance_checks.DRIVERS and check.data
        ]
        if refusal is None and not found:
            self._reporter.detail(f"{base.image_id}: its agent was not read; nothing remembered")
            return None
        data = found[0].data if found else {}
        allowed = data.get(instance_checks.ALLOWED)
        ecs_init = data.get(instance_checks.ECS_INIT)
        if data.get(instance_checks.GUESSED):
            # The drivers are ecs-init's default by a version not read: a guess, no verdict.
            allowed = None
            refusal = "ecs-init's version was not read, and its default decides the drivers"
        verdict = StockVerdict(
            image_id=base.image_id,
            platform_arn=base.platform_arn,
            allows=tuple(str(item) for item in allowed) if isinstance(allowed, list) else None,
            ecs_init=str(ecs_init) if ecs_init else None,
            checked_at=utc_timestamp(self._now()),
            detail=refusal or found[0].detail,
        )
        if self._stock is None:
            raise EbamiError("verify --stock was given nowhere to remember its verdict")
        name = self._stock().remember(base.platform, base.platform_version, verdict)
        self._reporter.progress(f"remembered the verdict on {base.image_id} in {name}")
        return verdict

    def terminate(self, instance: Instance | None, run_tag: str) -> list[str]:
        """Terminate what this run launched, found by its run tag if the launch was cut short.

        The calls keep trying through throttling until the clean-up's deadline (the executor
        bounds them); what AWS still refuses then is raised as `LeftBehind`, with the command
        that terminates it.
        """
        if instance is not None:
            ids = [instance.instance_id]
        else:
            try:
                found = self._ec2.find_instances_by_tag(tags.VERIFY_RUN, run_tag)
            except AwsError as exc:
                raise LeftBehind([self._tagged_leftover(run_tag, exc.message)]) from exc
            ids = [item.instance_id for item in found]
        if ids:
            self._reporter.progress(f"terminating {', '.join(ids)}")
            try:
                self._ec2.terminate_instances(ids)
            except AwsError as exc:
                raise LeftBehind(
                    [
                        Leftover(
                            f"instance {instance_id}",
                            exc.message,
                            self._cli.command(
                                "ec2", "terminate-instances", "--instance-ids", instance_id
                            ),
                        )
                        for instance_id in ids
                    ]
                ) from exc
        return ids

    def _tagged_leftover(self, run_tag: str, reason: str) -> Leftover:
        """The instances of this run whose ids are unknown (the launch was cut short and the
        search for them failed): a command that finds and terminates them."""
        find = self._cli.command(
            "ec2",
            "describe-instances",
            "--filters",
            f"Name=tag:{tags.VERIFY_RUN},Values={run_tag}",
            "Name=instance-state-name,Values=pending,running,stopping,stopped",
            "--query",
            "Reservations[].Instances[].InstanceId",
            "--output",
            "text",
        )
        return Leftover(
            f"any instance tagged {tags.VERIFY_RUN}={run_tag}",
            reason,
            f"{self._cli.command('ec2', 'terminate-instances')} --instance-ids $({find})",
        )
