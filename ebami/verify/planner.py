"""The read-only half of `ebami verify`: the AMI and what it should deliver, or the instances to
check (given, or an environment's), as a plan of instructions for the plan/execute core.

For an AMI: launch one throwaway instance, check it, tag the AMI if every check passed, and
(always) terminate what this run launched. For running instances: check them, nothing else.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ebami.aws.eb_values import Environment
from ebami.aws.ec2_values import Image, Instance, InstanceSpec
from ebami.core.errors import InputError, NotFoundError
from ebami.core.plan import Instruction, Plan, Ref, Step
from ebami.image import tags
from ebami.image.managed import ManagedImage
from ebami.verify import unreachable
from ebami.verify.expectations import Expectations
from ebami.verify.report import TargetKind

if TYPE_CHECKING:
    from ebami.config.settings import Settings
    from ebami.image.lookup import BaseAmi


class VerifyStep(Step):
    """The instructions of its plans: each is performed by the method of that name of
    `ebami.verify.actions.VerifyActions`."""

    LAUNCH = "launch"
    CHECK_LAUNCHED = "check_launched"
    TAG_VERIFIED = "tag_verified"
    TERMINATE = "terminate"
    CHECK_INSTANCES = "check_instances"
    TAG_COPIES = "tag_copies"
    REMEMBER_STOCK = "remember_stock"


DEFAULT_TIMEOUT = 600.0


class VerifyPlannerEc2(Protocol):
    """The EC2 calls `VerifyPlanner` makes (`ebami.aws.ec2.Ec2`)."""

    def get_image(self, image_id: str) -> Image: ...

    def describe_instances(self, instance_ids: list[str]) -> list[Instance]: ...


class VerifyPlannerEb(Protocol):
    """The Elastic Beanstalk calls `VerifyPlanner` makes (`ebami.aws.elasticbeanstalk`)."""

    def get_environment(self, name: str, application: str | None = None) -> Environment: ...

    def instance_ids(self, environment: Environment) -> list[str]: ...

    def image_id(self, environment: Environment) -> str | None: ...


@dataclass(frozen=True)
class VerifyOptions:
    """What to require and how to launch; refused as made when it cannot work."""

    default_drivers: tuple[str, ...]
    required: tuple[str, ...] | None = None
    timeout: float = DEFAULT_TIMEOUT
    instance_type: str | None = None
    instance_profile: str | None = None
    subnet_id: str | None = None
    # Regions the build copies to (`copy_to`): an AMI that passes has its copies there (same
    # bake key, the same bytes) tagged verified too.
    copy_regions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0 < self.timeout <= 24 * 3600:
            raise InputError(
                f"--timeout {self.timeout:g} is out of range: give seconds from 1 to 86400"
            )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        required: tuple[str, ...] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        instance_type: str | None = None,
    ) -> VerifyOptions:
        """The drivers, instance profile, subnet and copy regions of the settings. The
        `instance_type` setting is the builder's: verify's default is the cheapest type."""
        return cls(
            default_drivers=settings.resolved_drivers(),
            required=required,
            timeout=timeout,
            instance_type=instance_type,
            instance_profile=settings.instance_profile,
            subnet_id=settings.subnet_id,
            copy_regions=tuple(settings.copy_to),
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

    def to_json(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance.instance_id,
            "image_id": self.instance.image_id,
            "state": self.instance.state,
            "configured_image": self.configured_image,
            "expected": self.expected.to_json(),
        }


@dataclass(frozen=True)
class VerifyPlan:
    kind: TargetKind
    target: str
    steps: Plan
    # Why the AMI cannot be verified over SSM at all (then nothing is launched).
    refusal: str | None = None
    # The running instances to check (none for an AMI: its instance is launched).
    targets: tuple[Target, ...] = ()
    # `--stock`: the platform version's own AMI, and the drivers it is judged for.
    base: BaseAmi | None = None
    required: tuple[str, ...] = ()

    @property
    def notes(self) -> tuple[str, ...]:
        return self.steps.notes


def instance_type_for(image: Image) -> str:
    """The cheapest type the AMI can boot on: Graviton for arm64, Nitro when it has ENA."""
    if image.architecture == "arm64":
        return "t4g.nano"
    return "t3.nano" if image.ena_support else "t2.nano"


class VerifyPlanner:
    """Reads (only) what a verification needs and returns its plan."""

    def __init__(
        self,
        *,
        ec2: VerifyPlannerEc2,
        eb: Callable[[], VerifyPlannerEb],
        run_id: Callable[[], str] = lambda: uuid.uuid4().hex[:16],
    ) -> None:
        self._ec2 = ec2
        self._eb = eb
        self._run_id = run_id

    def plan_for(
        self,
        options: VerifyOptions,
        *,
        ami: str | None = None,
        instances: Sequence[str] = (),
        environment: str | None = None,
        application: str | None = None,
        stock: BaseAmi | None = None,
    ) -> VerifyPlan:
        """The plan for the target given: an AMI, a platform's own AMI (`stock`), an
        environment's instances, or instances."""
        if ami is not None:
            return self.plan_ami(ami, options)
        if stock is not None:
            return self.plan_stock(stock, options)
        if environment is not None:
            return self.plan_environment(environment, application, options)
        return self.plan_instances(list(instances), options)

    def plan_ami(self, image_id: str, options: VerifyOptions) -> VerifyPlan:
        image, expected = self._launchable(image_id, options, "--ami")
        facts: dict[str, Any] = {"Target": f"ami {image_id}", "Expected": expected}
        if expected.ssm_agent is False:
            refusal = unreachable.no_agent(expected)
            steps = Plan("verify", {**facts, "Cannot verify": refusal})
            return VerifyPlan(TargetKind.AMI, image_id, steps, refusal=refusal)
        checks = self._launch_and_check(image, expected, options)
        return VerifyPlan(
            TargetKind.AMI,
            image_id,
            Plan(
                "verify",
                facts,
                (
                    *checks.instructions,
                    Instruction(
                        VerifyStep.TAG_VERIFIED,
                        f"tagging {image_id} {tags.VERIFIED} if every check passed",
                        {"image_id": image_id, "results": Ref("results")},
                        output="verified_tags",
                    ),
                    *_copies_step(image, options),
                ),
                cleanup=checks.cleanup,
            ),
        )

    def plan_stock(self, base: BaseAmi, options: VerifyOptions) -> VerifyPlan:
        """The platform version's own AMI: launched and checked as any AMI, never tagged (it is
        Amazon's); the verdict is remembered for the platform version (`ebami.image.stock`),
        also when it cannot be checked (an AMI without the SSM agent: needed, by default)."""
        image, expected = self._launchable(base.image_id, options, "the platform's AMI")
        facts: dict[str, Any] = {
            "Target": f"the own AMI {base.image_id} of {base.platform_name} "
            f"{base.platform_version}",
            "Expected": expected,
        }
        remember = Instruction(
            VerifyStep.REMEMBER_STOCK,
            f"remembering which log drivers {base.image_id} allows, for platform version "
            f"{base.platform_version}",
            {"base": base, "results": Ref("results")},
            output="stock",
        )
        if expected.ssm_agent is False:
            # Amazon's AMI: no fix to suggest, only the cause to remember.
            cause = unreachable.no_agent_cause(expected)
            remember = dataclasses.replace(
                remember,
                message=f"remembering that {base.image_id} cannot be checked over SSM, for "
                f"platform version {base.platform_version}",
                params={"base": base, "refusal": cause},
            )
            steps = Plan("verify", {**facts, "Cannot verify": cause}, (remember,))
            return VerifyPlan(
                TargetKind.STOCK, base.image_id, steps, refusal=cause, base=base,
                required=expected.drivers,
            )  # fmt: skip
        checks = self._launch_and_check(image, expected, options)
        steps = Plan("verify", facts, (*checks.instructions, remember), cleanup=checks.cleanup)
        return VerifyPlan(
            TargetKind.STOCK, base.image_id, steps, base=base, required=expected.drivers
        )

    def _launchable(
        self, image_id: str, options: VerifyOptions, what: str
    ) -> tuple[Image, Expectations]:
        if not options.instance_profile:
            raise InputError(
                "verify launches an instance that SSM must reach: pass --instance-profile NAME "
                "(its role needs AmazonSSMManagedInstanceCore) or set instance_profile in "
                "ebami.toml"
            )
        image = self._ec2.get_image(image_id)
        if image.state != "available":
            raise NotFoundError(f"{what} {image_id} is {image.state}, not available")
        expected = Expectations.of(
            image, required=options.required, default_drivers=options.default_drivers
        )
        return image, expected

    def _launch_and_check(
        self, image: Image, expected: Expectations, options: VerifyOptions
    ) -> Plan:
        """Launch a throwaway instance of the AMI and check it; its clean-up terminates it."""
        image_id = image.image_id
        run_tag = self._run_id()
        spec = InstanceSpec(
            image_id=image_id,
            instance_type=options.instance_type or instance_type_for(image),
            instance_profile=options.instance_profile or "",
            subnet_id=options.subnet_id,
            tags={
                "Name": f"ebami-verify {image_id}",
                tags.MANAGED: "true",
                tags.PURPOSE: "verify",
                tags.VERIFY_RUN: run_tag,
            },
        )
        return Plan(
            "verify",
            {},
            (
                Instruction(
                    VerifyStep.LAUNCH,
                    f"launching a {spec.instance_type} instance of {image_id} "
                    f"(profile {spec.instance_profile}, IMDSv2 required)",
                    {"spec": spec},
                    output="instance",
                ),
                Instruction(
                    VerifyStep.CHECK_LAUNCHED,
                    "waiting for SSM to reach it, then reading ecs.config and the release "
                    f"files over Run Command (--timeout {options.timeout:g} s in all)",
                    {"instance": Ref("instance"), "expected": expected},
                    output="results",
                ),
            ),
            cleanup=(
                Instruction(
                    VerifyStep.TERMINATE,
                    f"terminating what this run launched ({tags.VERIFY_RUN}={run_tag})",
                    {"instance": Ref("instance"), "run_tag": run_tag},
                    output="terminated",
                ),
            ),
        )

    def plan_instances(self, instance_ids: list[str], options: VerifyOptions) -> VerifyPlan:
        instances = self._ec2.describe_instances(instance_ids)
        targets = tuple(
            Target(instance, expected)
            for instance, expected in self._expectations(instances, options)
        )
        target = ", ".join(instance_ids)
        return VerifyPlan(
            TargetKind.INSTANCE,
            target,
            _check_plan(f"instance {target}", targets, options, ()),
            targets=targets,
        )

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
            _check_plan(f"environment {environment.name}", targets, options, tuple(notes)),
            targets=targets,
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


def _check_plan(
    target: str, targets: tuple[Target, ...], options: VerifyOptions, notes: tuple[str, ...]
) -> Plan:
    """Checking instances that already run: one instruction, nothing launched or tagged."""
    instructions: tuple[Instruction, ...] = ()
    if targets:
        instructions = (
            Instruction(
                VerifyStep.CHECK_INSTANCES,
                f"checking {', '.join(t.instance.instance_id for t in targets)} over SSM "
                f"(--timeout {options.timeout:g} s in all)",
                {"targets": targets},
                output="results",
            ),
        )
    return Plan("verify", {"Target": target}, instructions, notes=notes)


def _copies_step(image: Image, options: VerifyOptions) -> tuple[Instruction, ...]:
    """Tag the AMI's copies in the copy regions (same bake key and build run) as verified, when
    it passed."""
    bake = ManagedImage.of(image).bake
    if not options.copy_regions or bake is None:
        return ()
    regions = ", ".join(options.copy_regions)
    return (
        Instruction(
            VerifyStep.TAG_COPIES,
            f"tagging its copies in {regions} (bake key {bake.key[:16]}…) {tags.VERIFIED} "
            "too, if it passed",
            {
                "image_id": image.image_id,
                # The bake: the key names the inputs, the run this build (a forced rebuild has
                # the same key, and no proof of its own).
                "bake_key": bake.key,
                "build_run": bake.run,
                "regions": options.copy_regions,
                "verified": Ref("verified_tags"),
            },
            output="copies_tagged",
        ),
    )
