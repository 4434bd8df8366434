"""The one place where a command's collaborators are wired, in three parts: the AWS session,
the service wrappers, Packer and the executors (`ebami.cli.factory_aws`), the lifecycle's
planners and actions (`ebami.cli.factory_lifecycle`), and here those of lookup, build, verify
and apply. Everything is made on first use, so a command imports only what it needs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from ebami.apply.finding import Target
    from ebami.apply.follow import Follower
    from ebami.apply.options import ApplyOptions
    from ebami.apply.orchestrator import FleetApply, InstancesVerified
    from ebami.apply.planner import ApplyPlan
    from ebami.apply.reads import SharedReads
    from ebami.apply.region_watch import RegionWatch
    from ebami.apply.run import ApplyRecord
    from ebami.apply.waves import Wave
    from ebami.aws.eb_values import Environment, Event
    from ebami.build.options import BuildOptions
    from ebami.build.planner import BuildPlan
    from ebami.build.run import BuildRecord
    from ebami.core.errors import EbamiError
    from ebami.core.plan import Plan
    from ebami.core.waiting import Deadline, Sleep
    from ebami.image.bake import BuildVerdict
    from ebami.image.lookup import BaseAmi
    from ebami.verify.planner import VerifyPlan, VerifyPlanner
    from ebami.verify.report import VerifyReport

from ebami.cli.factory_aws import FactoryBase
from ebami.cli.factory_lifecycle import LifecycleWiring

# `apply --verify`: how long proving an environment's instances may take.
VERIFY_SECONDS = 600.0
# How far a follower's polls back off against the sandbox, whose updates take seconds where
# AWS's take minutes (its 10 s would be most of an update there).
SANDBOX_POLL_CAP = 2.0


class Factory(LifecycleWiring, FactoryBase):
    """A command's collaborators in one region (`in_region` gives another region's); threads
    may share it (see `FactoryBase`)."""

    # --- lookup and build ----------------------------------------------------------------------

    def lookup(self, platform_version: str | None = None) -> BaseAmi:
        """The settings' platform's base AMI (of `platform_version`, or the newest)."""
        from ebami.image.lookup import find_base_ami

        platform = self.settings.resolved_platform()
        release = self.settings.resolved_release(platform)
        self.app.terminal.progress(f"looking up the base AMI of {platform.name} in {self.region}")
        return find_base_ami(
            self.eb, platform, region=self.region, release=release,
            platform_version=platform_version,
        )  # fmt: skip

    def plan_build(self, options: BuildOptions, *, bake: bool = True) -> tuple[BuildPlan, Plan]:
        """The build plan and its instructions; `bake`: the plan will run (not a dry run), so
        `packer version` is asked on the other core while planning."""
        if bake:
            self.prefetch_packer_version()
        return self._plan_build_steps(options)

    def _plan_build_steps(self, options: BuildOptions) -> tuple[BuildPlan, Plan]:
        from ebami.aws.iam import Iam
        from ebami.aws.kms import Kms
        from ebami.build.preflight import check_aws_inputs
        from ebami.build.steps import build_steps

        region = self.session.region
        # Names that depend on the region (an SSM parameter's length): before any call.
        options.check_names(region)
        check_aws_inputs(
            options,
            region=region,
            ec2=self.ec2,
            iam=lambda: Iam(self._client("iam")),
            kms=lambda: Kms(self._client("kms")),
            blame=self.settings.blame,
            instance_type_chosen=self.settings.source_of("instance_type") != "default",
            reporter=self.app.terminal,
        )
        plan = self._plan_build(options, look_for_leftovers=True)
        endpoint = self.session.endpoint_url_for("ec2")
        return plan, build_steps(plan, options, endpoint=endpoint, sandbox=self.sandbox)

    def check_build(self, options: BuildOptions) -> BuildVerdict:
        """What `ebami build` would do now, by its own planner: no preflight, no leftover
        search, nothing launched (three calls when the AMI exists)."""
        from ebami.build.verdict import build_verdict

        options.check_names(self.session.region)
        plan = self._plan_build(options, look_for_leftovers=False)
        return build_verdict(plan, self.ec2)

    def _plan_build(self, options: BuildOptions, *, look_for_leftovers: bool) -> BuildPlan:
        from ebami.build.planner import new_run_id, plan_build

        return plan_build(
            options,
            eb=self.eb,
            ec2=self.ec2,
            region=self.session.region,
            environ=self.app.environ,
            now=datetime.now(timezone.utc),
            run_id=new_run_id(),
            cli=self.session.cli,
            reporter=self.app.terminal,
            look_for_leftovers=look_for_leftovers,
        )

    def run_build(self, plan: BuildPlan, options: BuildOptions, steps: Plan) -> BuildRecord:
        from ebami.build.actions import BuildActions
        from ebami.build.run import run_build

        actions = BuildActions(
            ec2=self.ec2,
            ssm=lambda: self.ssm,
            packer=lambda: self.packer,
            region=self.session.region,
            cli=self.session.cli,
            reporter=self.app.terminal,
        )
        return run_build(plan, options, steps, self.executor(actions))

    # --- verify ----------------------------------------------------------------------------------

    def verify_planner(self) -> VerifyPlanner:
        from ebami.verify.planner import VerifyPlanner

        return VerifyPlanner(ec2=self.ec2, eb=lambda: self.eb)

    def run_verify(self, plan: VerifyPlan, deadline: Deadline) -> VerifyReport:
        from ebami.verify.actions import VerifyActions
        from ebami.verify.run import run_verify

        actions = VerifyActions(
            ec2=self.ec2,
            ssm=self.ssm,
            reporter=self.app.terminal,
            deadline=deadline,
            cli=self.session.cli,
            region=self.session.region,
            copies=lambda region: self.in_region(region).ec2,
            stock=lambda: self.stock_verdicts,
        )
        return run_verify(plan, self.executor(actions))

    # --- apply and events --------------------------------------------------------------------

    def show_event(self, event: Event) -> None:
        """An event of an update being followed: progress, on stderr."""
        self.app.terminal.event(_local_time(event), event.severity, event.message)

    def list_event(self, event: Event) -> None:
        """An event `ebami events` lists: its result, on stdout."""
        self.app.terminal.out_text(f"{_local_time(event)} {event.severity:<5} {event.message}\n")

    def follower(self, watch: RegionWatch | None = None) -> Follower:
        """A follower of updates; `watch`: what it polls (default: this region's Elastic
        Beanstalk and EC2; an apply's followers poll the region's `RegionWatch`)."""
        from ebami.apply.follow import FIRST_POLL, POLL_CAP, Follower
        from ebami.core.waiting import intervals

        cap = SANDBOX_POLL_CAP if self.sandbox else POLL_CAP
        return Follower(
            watch or self.eb,
            self.app.terminal,
            ec2=watch or self.ec2,
            settle=self.settings.settle,
            on_event=self.show_event,
            polls=lambda: intervals(first=FIRST_POLL, cap=cap),
            aligned=watch is not None,
        )

    @cached_property
    def region_watch(self) -> RegionWatch:
        """What the followers of this region's updates poll together (one per run and region:
        made on the main thread when the environments are found)."""
        from ebami.apply.region_watch import RegionWatch

        return RegionWatch(self.eb, self.ec2, deadline=lambda: self.session.deadline)

    @cached_property
    def apply_reads(self) -> SharedReads:
        """What this run's plans in this region share (made on the main thread when the
        environments are found)."""
        from ebami.apply.reads import SharedReads

        return SharedReads(eb=self.eb, ec2=self.ec2, s3=lambda: self.s3, region=self.region)

    def find_environments(
        self, names: Sequence[str], application: str | None
    ) -> dict[str, Environment | EbamiError]:
        """Each environment named (or why there is none), found on this thread, in one call
        per 100 names, with what planning them needs made here too (the planners' threads
        then share it)."""
        found = self.eb.environments_found(names, application)
        self.ec2, self.ssm, self.s3, self.apply_reads, self.region_watch, self.sandbox  # noqa: B018
        self.stock_verdicts  # noqa: B018 - apply --stock's planners share it
        return found

    def fleet_apply(
        self,
        waves: tuple[Wave, ...],
        options: ApplyOptions,
        *,
        record: Path | None,
        concurrency: int,
        verify: bool,
    ) -> FleetApply:
        """One `ebami apply` of the environments of `waves`, each in its own region's factory
        (made once, on this thread, shared by the environments' threads)."""
        from ebami.apply.finding import Target
        from ebami.apply.orchestrator import FleetApply

        def target(name: str) -> Target:
            settings, application, environment = self.settings.environment_target(name)
            return Target(self.in_region(settings.region), application, environment)

        return FleetApply(
            waves,
            options,
            target=target,
            reporter=self.app.terminal,
            record=record,
            concurrency=concurrency,
            verify=self.verify_instances if verify else None,
        )

    def verify_instances(self, target: Target, plan: ApplyPlan) -> InstancesVerified:
        """`ebami verify --env` on the instances of an environment apply just switched."""
        from ebami.apply.orchestrator import InstancesVerified
        from ebami.verify.planner import VerifyOptions

        factory = self.in_region(target.services.region)
        options = VerifyOptions(
            default_drivers=self.settings.resolved_drivers(), timeout=VERIFY_SECONDS
        )
        environment = plan.environment
        with factory.bounded(options.timeout) as deadline:
            verify_plan = factory.verify_planner().plan_environment(
                environment.name, environment.application, options
            )
            report = factory.run_verify(verify_plan, deadline)
        passed = report.passed
        summary = "" if passed else report.failure_summary()
        return InstancesVerified(passed, summary, report.to_json(), len(report.instances))

    def plan_apply(
        self,
        environment: Environment,
        options: ApplyOptions,
        *,
        wave: int = 0,
        earlier: ApplyPlan | None = None,
        baseline: bool = True,
    ) -> ApplyPlan:
        from ebami.apply.planner import ApplyPlanner

        planner = ApplyPlanner(
            eb=self.eb,
            reads=self.apply_reads,
            channels=self.channels,
            rollback=self.rollback_targets,
            stock=lambda: self.stock_verdicts,
        )
        return planner.plan(environment, options, wave=wave, earlier=earlier, baseline=baseline)

    def run_apply(
        self,
        plan: ApplyPlan,
        saved: Callable[[ApplyRecord], None],
        *,
        sleep: Sleep = time.sleep,
    ) -> ApplyRecord:
        """Perform and follow `plan`; `sleep` is the pause of its waits (a worker thread's
        raises KeyboardInterrupt on Ctrl-C: `ebami.core.interrupts.StopSignal`)."""
        from ebami.apply.actions import ApplyActions
        from ebami.apply.run import run_apply
        from ebami.core.plan import CLEANUP_SECONDS

        actions = ApplyActions(
            eb=self.eb,
            follower=self.follower(self.region_watch),
            reporter=self.app.terminal,
            environment=plan.environment,
            enhanced_health=plan.policy.enhanced_health,
            bounds=self.session.bounded,
            clock=time.monotonic,
            sleep=sleep,
            require_health_after_rollback=plan.health_before.startswith("Green"),
            baseline=plan.baseline,
            rollback=self.rollback_targets(),
            guard=self.image_guard,
        )
        # Every call fits the run's deadlines: the update's (and its rollback's, or abort's,
        # each its own inside this one), so throttling is retried, never a hang.
        with self.bounded(2 * plan.deadline + CLEANUP_SECONDS):
            return run_apply(
                plan,
                execute=lambda steps: self.executor(actions).execute(steps),
                actions=actions,
                reporter=self.app.terminal,
                saved=saved,
            )


def _local_time(event: Event) -> str:
    return event.date.astimezone().strftime("%Y-%m-%d %H:%M:%S")
