"""The read-only half of `ebami apply`: the environment, its AMI now and the one to switch to,
the gates, the update policy and its deadline, and the health baseline (the environment's
health and each instance's, read just before the update, which the verdict on the update's
health compares with: `ebami.apply.verdict`), as a plan of instructions.

Only Describe/List/Get calls are made here; `--dry-run` shows exactly the plan returned.

The planner is given the environment as found (a fleet finds its environments in batches), and
what every plan of the run shares (the verified AMIs, platform versions, application versions'
log drivers, instance counts) comes from `ebami.apply.reads` once. A fleet plans each
environment once before wave 1 (`baseline=False`: the health is read just before the update);
its wave plans it again from that `earlier` plan, re-reading only what can have changed since:
the environment (given), its configuration (only when the environment's `DateUpdated` moved:
every change of its settings moves it), the target AMI (`wave`), and the health baseline. The
gates run again on what was read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ebami.apply.gates import Gate, gates_for
from ebami.apply.options import ApplyOptions
from ebami.apply.policy import UpdatePolicy
from ebami.apply.reads import SharedReads
from ebami.apply.steps import instructions
from ebami.apply.verdict import WITH_CAUSES, Baseline
from ebami.aws.eb_values import Configuration, Environment, Health, InstanceHealth
from ebami.core.errors import EbamiError, NotFoundError, Refused
from ebami.core.plan import Plan
from ebami.image.dockerrun import DriverUse
from ebami.image.environment import EnvironmentPlatform
from ebami.image.managed import ManagedImage, rollback_target

if TYPE_CHECKING:
    from ebami.image.channels import Channels
    from ebami.image.rollback import RollbackTargets
    from ebami.image.stock import StockVerdicts


class PlannerEb(Protocol):
    """The environment's own reads (the shared ones are `SharedReads`')."""

    def configuration(self, environment: Environment) -> Configuration: ...
    def tags(self, environment: Environment) -> dict[str, str]: ...
    def health(self, environment: Environment) -> Health: ...
    def instances_health(self, environment: Environment) -> list[InstanceHealth]: ...


@dataclass(frozen=True)
class ApplyPlan:
    environment: Environment
    region: str
    platform: EnvironmentPlatform
    # What the configuration names now (the platform's AMI when the option is unset).
    current: str | None
    target: str
    # The value to set: None removes the option (back to the platform's AMI).
    target_option: str | None
    gates: tuple[Gate, ...]
    policy: UpdatePolicy
    instances: int
    deadline: float
    steps: Plan
    # The plan that switches back, run when the update fails.
    rollback_steps: Plan
    # Why nothing may change (a gate, the environment's status); None: it may.
    refusal: str | None = None
    unchanged: bool = False
    health_before: str = ""
    # `--channel`: the SSM parameter the target was read from.
    channel_parameter: str | None = None
    # The environment's health and its instances' before the update (what the verdict on the
    # update's health compares with).
    baseline: Baseline | None = None
    # The environment's settings as read (a later plan of it reuses them while its DateUpdated
    # has not moved).
    configuration: Configuration | None = None


class ApplyPlanner:
    def __init__(
        self,
        *,
        eb: PlannerEb,
        reads: SharedReads,
        channels: Callable[[], Channels] | None = None,
        rollback: Callable[[], RollbackTargets] | None = None,
        stock: Callable[[], StockVerdicts] | None = None,
    ) -> None:
        """`rollback`: the region's rollback targets (where `--rollback` finds its AMI);
        `stock`: the verdicts on the platforms' own AMIs (what `--stock` is gated by)."""
        self._eb = eb
        self._reads = reads
        self._region = reads.region
        self._channels = channels
        self._rollback = rollback
        self._stock = stock

    def plan(
        self,
        environment: Environment,
        options: ApplyOptions,
        *,
        wave: int = 0,
        earlier: ApplyPlan | None = None,
        baseline: bool = True,
    ) -> ApplyPlan:
        """The plan for `environment` as just described. `wave`: which reads of the AMI count
        as fresh (0: before wave 1); `earlier`: this environment's plan before wave 1;
        `baseline`: read the health baseline (not when the plan only decides whether the
        environment may be switched, before wave 1)."""
        eb = self._eb
        reads = self._reads
        configuration = (
            earlier.configuration
            if earlier is not None
            and earlier.configuration is not None
            and _unchanged_since(earlier.environment, environment)
            else eb.configuration(environment)
        )
        platform = reads.platform(environment.platform_arn)
        current = configuration.image_id or platform.default_image
        uses, problem = reads.driver_uses(environment.application, environment.version_label)
        previous_tag = self._previous(environment) if options.rollback else None
        channel_parameter = None
        if options.channel is not None:
            target, channel_parameter = self._from_channel(
                environment, platform, options.channel, options.pinned
            )
        elif options.pinned is not None and not options.rollback:
            target = options.pinned
        elif options.stock:
            target = _stock_target(environment, platform)
        else:
            target = self._target(environment, platform, options, uses, previous_tag)
        image = reads.image(target, wave)
        stock = self._stock().of(platform) if options.stock and self._stock else None
        gates = gates_for(
            image,
            target,
            self._region,
            platform,
            version_label=environment.version_label,
            uses=uses,
            problem=problem,
            channel=options.channel,
            pinned=options.pinned is not None and not options.rollback,
            rollback=options.rollback,
            allow_unverified=options.allow_unverified,
            on_stock=options.stock,
            stock=stock,
        )
        policy = UpdatePolicy.of(configuration)
        # The platform's own AMI is set by removing the option: the environment then follows
        # the platform's AMI through platform updates again.
        target_option = None if target == platform.default_image else target
        unchanged = current == target
        refusal = _refusal(environment, gates, unchanged)
        health_before = _health(environment)
        health = (
            None if refusal or unchanged or not baseline else self._baseline(environment, policy)
        )
        instances = self._instances(environment, health, counted=baseline or bool(refusal))
        deadline = options.timeout or policy.deadline(instances)
        facts: dict[str, Any] = {
            "Environment": f"{environment.application}/{environment.name} in {self._region}",
            "Status": f"{environment.status}, health {health_before}",
            "Platform": f"{platform.name} {platform.version} (OS {platform.os_version})",
            "Current AMI": _shown(current, platform),
            "Target AMI": _shown(target, platform)
            + (" (the rollback target ebami recorded)" if options.rollback else "")
            + (f" (channel {options.channel}: {channel_parameter})" if channel_parameter else "")
            + (" (chosen for the whole fleet before wave 1)" if options.pinned else ""),
            "Instances": instances,
            "Update policy": policy.describe(instances),
            "Deadline": f"{deadline:g} s" + (" (--timeout)" if options.timeout else ""),
            **({"Health before": health.describe()} if health else {}),
            **{f"Gate {gate.name}": f"{gate.verdict.value}: {gate.detail}" for gate in gates},
        }
        notes = []
        if refusal:
            notes.append(f"refused: {refusal}")
        elif unchanged:
            notes.append(f"{environment.name} already runs {target}: nothing to do")
        else:
            back = _shown(current, platform)
            notes.append(
                f"on failure: Elastic Beanstalk rolls {environment.name} back to {back} itself "
                f"({policy.kind} policy); ebami follows that and starts no update of its own"
                if policy.rolls_back_itself
                else f"on failure: {environment.name} is switched back to {back} and that "
                "update is followed too"
            )
            notes.append("Ctrl-C during the update aborts it (AbortEnvironmentUpdate)")
        if target_option is None and not unchanged:
            notes.append("the target is the platform's own AMI: the ImageId option is removed")
        keep = None if options.rollback or current == platform.default_image else current
        protect = () if refusal or unchanged else self._unprotected(environment, image, keep)
        steps = (
            Plan("apply", facts, notes=tuple(notes))
            if refusal or unchanged
            else Plan(
                "apply",
                facts,
                instructions(environment, current, target_option, target, deadline, protect),
                notes=tuple(notes),
            )
        )
        previous_option = (
            None if configuration.image_id in (None, platform.default_image) else current
        )
        rollback_steps = Plan(
            "rollback",
            {"Environment": environment.name, "Back to": _shown(current, platform)},
            instructions(environment, target, previous_option, current, deadline, rollback=True),
        )
        return ApplyPlan(
            environment=environment,
            region=self._region,
            platform=platform,
            current=current,
            target=target,
            target_option=target_option,
            gates=gates,
            policy=policy,
            instances=instances,
            deadline=deadline,
            steps=steps,
            rollback_steps=rollback_steps,
            refusal=refusal,
            unchanged=unchanged,
            health_before=health_before,
            channel_parameter=channel_parameter,
            baseline=health,
            configuration=configuration,
        )

    # --- what is read ------------------------------------------------------------------------

    def _instances(
        self, environment: Environment, health: Baseline | None, *, counted: bool
    ) -> int:
        """How many instances serve the environment: the enhanced baseline's, else
        `DescribeEnvironmentResources` (once per run). Not `counted`: 0, unread (a fleet's plan
        before wave 1 decides only whether the environment may be switched, and to what; its
        wave's plan counts them)."""
        if health is not None and health.enhanced:
            return len(health.instances)
        return self._reads.instances(environment) if counted else 0

    def _baseline(self, environment: Environment, policy: UpdatePolicy) -> Baseline:
        """The environment's health now: under enhanced health, its colour and status as just
        described, their causes (`DescribeEnvironmentHealth`) when the status has any that say
        what is wrong, and each instance's (`DescribeInstancesHealth`); else its colour."""
        if not policy.enhanced_health:
            return Baseline(environment.health, environment.health_status)
        color, status = environment.health, environment.health_status
        causes: tuple[str, ...] = ()
        if status in WITH_CAUSES or not status:
            health = self._eb.health(environment)
            color, status, causes = health.color, health.status, health.causes
        instances = tuple(self._eb.instances_health(environment))
        return Baseline(color, status, causes, instances, enhanced=True)

    def _target(
        self,
        environment: Environment,
        platform: EnvironmentPlatform,
        options: ApplyOptions,
        uses: tuple[DriverUse, ...] | None,
        previous_tag: str | None,
    ) -> str:
        if options.ami:
            return options.ami
        if options.rollback:
            if not previous_tag:
                raise NotFoundError(
                    f"{environment.name} has no rollback target: no ebami apply recorded the "
                    "AMI it ran before; pass --ami AMI"
                )
            return previous_tag
        return self._newest_fitting(environment, platform, uses)

    def _previous(self, environment: Environment) -> str | None:
        """The rollback target ebami recorded for the environment (its SSM parameter, else the
        tag earlier versions wrote)."""
        if self._rollback is None:
            return rollback_target(self._eb.tags(environment))
        return self._rollback().of(environment.environment_id, lambda: self._eb.tags(environment))

    def _from_channel(
        self,
        environment: Environment,
        platform: EnvironmentPlatform,
        channel: str,
        pinned: str | None = None,
    ) -> tuple[str, str]:
        """The AMI `channel` names for the environment's own platform and release (`pinned`
        when given: the fleet read it before its first wave), and the parameter it was read
        from."""
        if self._channels is None:
            raise EbamiError("apply --channel needs the channels; this planner was given none")
        target = platform.platform
        release = platform.release
        if target is None or release is None:
            raise Refused(
                f"{environment.name} runs {platform.name} (OS {platform.os_version or 'unknown'}),"
                " not a platform and release ebami bakes for: it has no channel"
            )
        channels = self._channels()
        key = channels.key(target, release, channel)
        parameter = channels.parameter(key)
        if pinned is not None:
            return pinned, parameter
        image_id = channels.current(key)
        if image_id is None:
            raise Refused(
                f"channel {key} has no AMI: {parameter} does not exist or is empty; promote one "
                f"first: ebami promote --ami AMI --channel {channel}"
            )
        return image_id, parameter

    def _newest_fitting(
        self,
        environment: Environment,
        platform: EnvironmentPlatform,
        uses: tuple[DriverUse, ...] | None,
    ) -> str:
        """The newest verified ebami AMI whose platform, release and drivers fit."""
        target = platform.platform
        needed = {use.driver for use in uses or ()}
        looked: list[str] = []
        for image in self._reads.verified():
            why = image.fit(platform, needed)
            if why is None:
                return image.image_id
            looked.append(f"{image.image_id} ({why})")
        wanted = f"{target.alias if target else platform.name}, OS {platform.os_version}" + (
            f", drivers {', '.join(sorted(needed))}" if needed else ""
        )
        seen = f"looked at {len(looked)}: " + "; ".join(looked[:10]) if looked else "found none"
        raise NotFoundError(
            f"no verified ebami AMI in {self._region} fits {environment.name} ({wanted}); "
            f"{seen}. Build and verify one (ebami build, ebami verify), or pass --ami"
        )

    def _unprotected(
        self, environment: Environment, target: ManagedImage | None, back: str | None
    ) -> tuple[str, ...]:
        """Of the target and the way back (`back`: the AMI it runs now; None: none to keep),
        the ebami AMIs of the environment's account without deregistration protection
        (`ebami.image.protection`). The way back is read once per run: whether to protect it needs
        no fresh read (protecting twice is no harm)."""
        parts = environment.arn.split(":")
        account = parts[4] if len(parts) > 4 else ""
        images = [target, self._reads.image(back) if back and account else None]
        return tuple(
            dict.fromkeys(
                image.image_id
                for image in images
                if image is not None
                and image.managed
                and image.owner_id == account
                and not image.protection.on
            )
        )


def _stock_target(environment: Environment, platform: EnvironmentPlatform) -> str:
    """`--stock`: the platform version's own AMI."""
    if platform.default_image is None:
        raise NotFoundError(
            f"{environment.name}'s platform version {platform.name} {platform.version} lists no "
            "AMI of its own (CustomAmiList): there is no stock AMI to go back to"
        )
    return platform.default_image


def baseline_json(plan: ApplyPlan) -> dict[str, Any]:
    """The plan's health baseline as JSON (`{"baseline": null}` when nothing will change)."""
    return {"baseline": plan.baseline.to_json() if plan.baseline else None}


def _unchanged_since(before: Environment, now: Environment) -> bool:
    """Whether the environment's settings are as they were: Ready, and `DateUpdated` as it was
    (Elastic Beanstalk moves it with every update of the environment)."""
    return now.status == "Ready" and before.updated is not None and now.updated == before.updated


def _refusal(environment: Environment, gates: tuple[Gate, ...], unchanged: bool) -> str | None:
    if environment.status != "Ready":
        return (
            f"{environment.name} is {environment.status}, not Ready: Elastic Beanstalk refuses "
            f"an update while another runs (follow it: ebami events --env {environment.name} -f)"
        )
    if unchanged:
        return None
    failed = [gate for gate in gates if gate.refuses]
    if failed:
        return "; ".join(f"{gate.name} gate: {gate.detail}" for gate in failed)
    return None


def _health(environment: Environment) -> str:
    if environment.health_status:
        return f"{environment.health}/{environment.health_status}"
    return environment.health or "unknown"


def _shown(image_id: str | None, platform: EnvironmentPlatform) -> str:
    if image_id is None:
        return "the platform's AMI (unknown)"
    if image_id == platform.default_image:
        return f"{image_id} (the platform's AMI)"
    return image_id
