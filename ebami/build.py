"""`ebami build` as a pipeline: plan (read-only), then bake with Packer, tag, record, publish.

`plan` only reads: the base AMI (lookup or `--base-ami`), the rendered user data, the bake key,
the AMI that already carries the key, and the Packer variables. `--dry-run` prints the plan.
`bake` runs Packer on a private work folder, makes sure the AMI and its snapshots carry the
provenance tags, and returns the build record.
"""

from __future__ import annotations

import json
import shlex
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ebami import __version__
from ebami import tags as tag_names
from ebami.errors import InputError, Interrupted, NotFoundError, ToolError
from ebami.lookup import BaseAmi, find_base_ami
from ebami.packer.machine import Artifact, UiKind
from ebami.packer.runner import MANIFEST_FILE, Packer, dotted
from ebami.packer.template import AWS_SOURCE, SANDBOX_SOURCE, assemble, templates_digest
from ebami.platforms import Platform
from ebami.provenance import (
    BakeKey,
    check_extra_tags,
    provenance_tags,
    utc_timestamp,
)
from ebami.reporting import Reporter
from ebami.userdata import SSM_AGENT_RPM_URL, UserData, render_user_data

if TYPE_CHECKING:
    from ebami.aws.ec2 import Ec2, Image
    from ebami.aws.elasticbeanstalk import ElasticBeanstalk
    from ebami.aws.ssm import Ssm

USER_DATA_FILE = "user-data.yaml"
VAR_FILE = "variables.pkrvars.json"
ECS_CONFIG_DIR = "ecs-config"


class Communicator(str, Enum):
    SSH = "ssh"
    SESSION_MANAGER = "session-manager"


@dataclass(frozen=True)
class BuildOptions:
    platform: Platform
    release: str | None
    drivers: tuple[str, ...]
    base_ami: str | None = None
    platform_version: str | None = None
    ssm_agent: bool = True
    instance_type: str = "t3.micro"
    subnet_id: str | None = None
    instance_profile: str | None = None
    communicator: Communicator = Communicator.SSH
    ssh_cidrs: tuple[str, ...] = ()
    encrypt: bool = False
    kms_key_id: str | None = None
    copy_to: tuple[str, ...] = ()
    share_with: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    force: bool = False
    ssm_parameter: str | None = None

    def __post_init__(self) -> None:
        """Refuse combinations that cannot work, before anything talks to AWS."""
        check_extra_tags(self.tags)
        # Rendering is pure: it refuses bad drivers, a release of another OS family and a
        # missing release where the user data pins one.
        render_user_data(self.platform, self.drivers, self.release)
        if self.communicator is Communicator.SESSION_MANAGER and not (
            self.platform.base_ami_has_ssm_agent
        ):
            raise InputError(
                f"--communicator session-manager needs an SSM agent on the builder, and "
                f"{self.platform.alias}'s base AMI has none; use --communicator ssh"
            )


@dataclass(frozen=True)
class BuildPlan:
    """Everything `bake` needs, worked out without changing anything."""

    base: BaseAmi
    user_data: UserData
    bake_key: BakeKey
    ami_name: str
    tags: dict[str, str]
    existing: Image | None
    force: bool
    # The EC2 endpoint when it is not AWS's (the sandbox): the template's no-SSH source.
    endpoint: str | None
    variables: dict[str, Any]

    @property
    def source(self) -> str:
        return SANDBOX_SOURCE if self.endpoint else AWS_SOURCE

    @property
    def skips(self) -> bool:
        return self.existing is not None and not self.force

    @property
    def action(self) -> str:
        """What `bake` will do, in words (`--dry-run` shows it)."""
        if self.existing is None:
            return "build"
        if self.force:
            return "build (--force)"
        return f"skip: {self.existing.image_id} already carries the bake key"


@dataclass(frozen=True)
class BuildRecord:
    """The JSON record of a build (`--record FILE`, `--output json`)."""

    image_id: str
    region: str
    images: list[dict[str, str]]
    ami_name: str
    skipped: bool
    bake_key: str
    base_ami: dict[str, str]
    release: str | None
    drivers: list[str]
    user_data_sha256: str
    ssm_agent_installed: bool
    snapshot_ids: list[str]
    tags: dict[str, str]
    packer_version: str | None
    packer_source: str
    builder_requires_imdsv2: bool | None
    ssm_parameter: str | None
    started_at: str
    finished_at: str
    ebami_version: str = __version__

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Builder:
    """Wires the collaborators of a build; `plan` reads, `bake` changes things."""

    def __init__(
        self,
        *,
        eb: ElasticBeanstalk,
        ec2: Ec2,
        ssm: Callable[[], Ssm],
        packer: Callable[[], Packer],
        region: str,
        endpoint: str | None,
        environ: Mapping[str, str],
        reporter: Reporter,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self._eb = eb
        self._ec2 = ec2
        self._ssm = ssm
        self._packer = packer
        self._region = region
        self._endpoint = endpoint
        self._environ = environ
        self._reporter = reporter
        self._now = now

    def plan(self, options: BuildOptions) -> BuildPlan:
        base = self._base_ami(options)
        packages = (
            [SSM_AGENT_RPM_URL]
            if options.ssm_agent and not options.platform.base_ami_has_ssm_agent
            else []
        )
        user_data = render_user_data(
            options.platform, options.drivers, options.release, packages=packages
        )
        image_options = {
            "encrypt": options.encrypt or bool(options.kms_key_id),
            "kms_key_id": options.kms_key_id or "",
            "copy_to": sorted(set(options.copy_to)),
        }
        bake_key = BakeKey.of(
            base_ami=base.image_id,
            region=self._region,
            user_data=user_data,
            templates_digest=templates_digest(),
            image_options=image_options,
        )
        self._reporter.progress(f"bake key {bake_key.value[:16]}…; looking for an AMI carrying it")
        existing = next(
            iter(self._ec2.find_images_by_tag(tag_names.BAKE_KEY, bake_key.value)), None
        )
        ami_name = _ami_name(base, user_data, self._now())
        tags = provenance_tags(
            base=base,
            user_data=user_data,
            bake_key=bake_key,
            ami_name=ami_name,
            environ=self._environ,
            extra=options.tags,
        )
        run_tags = {
            "Name": f"ebami builder for {ami_name}",
            tag_names.MANAGED: "true",
            tag_names.BAKE_KEY: bake_key.value,
        }
        variables: dict[str, Any] = {
            "region": self._region,
            "source_ami": base.image_id,
            "instance_type": options.instance_type,
            "subnet_id": options.subnet_id or "",
            "iam_instance_profile": options.instance_profile or "",
            "communicator": options.communicator.value.replace("-", "_"),
            "ssh_source_cidrs": list(options.ssh_cidrs),
            "ami_name": ami_name,
            "ami_description": _description(base, user_data),
            "tags": tags,
            "run_tags": run_tags,
            "user_data_file": USER_DATA_FILE,
            "ec2_endpoint": self._endpoint or "",
            "encrypt_boot": image_options["encrypt"],
            "kms_key_id": options.kms_key_id or "",
            "ami_regions": list(options.copy_to),
            "ami_users": list(options.share_with),
            "ecs_config_check": _check_command(user_data),
            "manifest_file": MANIFEST_FILE,
        }
        return BuildPlan(
            base=base,
            user_data=user_data,
            bake_key=bake_key,
            ami_name=ami_name,
            tags=tags,
            existing=existing,
            force=options.force,
            endpoint=self._endpoint,
            variables=variables,
        )

    def bake(self, plan: BuildPlan, options: BuildOptions) -> BuildRecord:
        started = self._now()
        packer_version: tuple[int, ...] | None = None
        imdsv2: bool | None = None
        if plan.skips:
            assert plan.existing is not None  # noqa: S101 - skips implies existing
            image = plan.existing
            artifacts = [Artifact(self._region, image.image_id)]
            self._reporter.progress(
                f"{image.image_id} ({image.name}) already carries bake key "
                f"{plan.bake_key.value[:16]}…: nothing to build (--force builds anyway)"
            )
        else:
            packer = self._packer()
            packer_version = packer.version()
            artifacts, imdsv2 = self._run_packer(packer, packer_version, plan)
            image = self._ensure_tags(artifacts[0].image_id, plan.tags)
        if options.ssm_parameter:
            version = self._ssm().publish_image_id(options.ssm_parameter, image.image_id)
            self._reporter.progress(
                f"published {image.image_id} as {options.ssm_parameter} (version {version})"
            )
        return BuildRecord(
            image_id=image.image_id,
            region=self._region,
            images=[{"region": a.region, "image_id": a.image_id} for a in artifacts],
            ami_name=image.name,
            skipped=plan.skips,
            bake_key=plan.bake_key.value,
            base_ami=asdict(plan.base),
            release=plan.user_data.release,
            drivers=list(plan.user_data.drivers),
            user_data_sha256=plan.user_data.sha256,
            ssm_agent_installed=bool(plan.user_data.packages),
            snapshot_ids=list(image.snapshot_ids),
            tags=image.tags,
            packer_version=dotted(packer_version) if packer_version else None,
            packer_source=plan.source,
            builder_requires_imdsv2=imdsv2,
            ssm_parameter=options.ssm_parameter,
            started_at=utc_timestamp(started),
            finished_at=utc_timestamp(self._now()),
        )

    def _base_ami(self, options: BuildOptions) -> BaseAmi:
        if options.base_ami is None:
            self._reporter.progress(
                f"looking up the base AMI of {options.platform.name} in {self._region}"
            )
            return find_base_ami(
                self._eb,
                options.platform,
                region=self._region,
                release=options.release,
                platform_version=options.platform_version,
            )
        image = self._ec2.get_image(options.base_ami)
        if image.state != "available":
            raise NotFoundError(f"--base-ami {image.image_id} is {image.state}, not available")
        return BaseAmi(
            image_id=image.image_id,
            region=self._region,
            platform=options.platform.alias,
            platform_name=options.platform.name,
            platform_arn="",
            platform_version=options.platform_version or "",
            os_name="",
            os_version=options.release or "",
            lifecycle_state="",
            branch_name="",
        )

    def _run_packer(
        self, packer: Packer, version: tuple[int, ...], plan: BuildPlan
    ) -> tuple[list[Artifact], bool | None]:
        with tempfile.TemporaryDirectory(prefix="ebami-build-") as folder:
            work = Path(folder)
            template = assemble(work / "template", version)
            (work / USER_DATA_FILE).write_text(plan.user_data.text, encoding="utf-8")
            var_file = work / VAR_FILE
            var_file.write_text(json.dumps(plan.variables, indent=2), encoding="utf-8")
            imdsv2: bool | None = None
            if plan.source == AWS_SOURCE:
                imdsv2 = template.requires_imdsv2_on_builder
                if not imdsv2:
                    self._reporter.warn(
                        f"Packer {dotted(version)} cannot require IMDSv2 on the "
                        "builder instance (metadata_options needs Packer 1.7 or newer); the "
                        "builder accepts IMDSv1 while it runs"
                    )
            if template.modern:
                self._reporter.progress("packer init: installing the amazon plugin if needed")
                packer.init(template.folder, self._on_ui)
            self._reporter.progress(
                f"packer build of {plan.ami_name} from {plan.base.image_id} ({plan.source})"
            )
            try:
                result = packer.build(
                    template.folder,
                    var_file=var_file,
                    only=plan.source,
                    cwd=work,
                    on_ui=self._on_ui,
                )
            except (ToolError, Interrupted):
                self._discard_unfinished(plan.ami_name)
                raise
        self._reporter.progress(
            "built " + ", ".join(f"{a.image_id} in {a.region}" for a in result.artifacts)
        )
        home = [a for a in result.artifacts if a.region == self._region]
        others = [a for a in result.artifacts if a.region != self._region]
        if not home:
            raise ToolError(f"packer build reported no AMI in {self._region}")
        return home + others, imdsv2

    def _discard_unfinished(self, ami_name: str) -> None:
        """Remove an AMI a failed or interrupted build registered but never finished.

        Packer deregisters its AMI only once the AMI is available; cancelled while waiting for
        it (or failing after CreateImage), it leaves a pending AMI behind.
        """
        for image in self._ec2.find_images_by_name(ami_name):
            self._reporter.progress(
                f"removing {image.image_id} ({image.state}), left unfinished by the failed build"
            )
            self._ec2.delete_image(image)

    def _ensure_tags(self, image_id: str, tags: dict[str, str]) -> Image:
        """Read the AMI back; tag it and its snapshots where Packer did not."""
        image = self._ec2.get_image(image_id)
        if image.state != "available":
            raise ToolError(f"Packer reported {image_id}, but it is {image.state}")
        untagged = [image.image_id] if not _carries(image.tags, tags) else []
        snapshots = self._ec2.snapshot_tags(image.snapshot_ids)
        untagged += [sid for sid, found in snapshots.items() if not _carries(found, tags)]
        if untagged:
            self._reporter.progress(f"tagging {', '.join(untagged)} with the provenance tags")
            self._ec2.tag_resources(untagged, tags)
            image = replace(image, tags={**image.tags, **tags})
        return image

    def _on_ui(self, kind: UiKind, text: str) -> None:
        for line in text.splitlines() or [""]:
            if kind is UiKind.SAY:
                self._reporter.progress("packer: " + line.removeprefix("==> ").strip())
            elif kind is UiKind.ERROR:
                self._reporter.warn("packer: " + line.strip())
            else:
                self._reporter.detail("packer: " + line.strip())


def _carries(found: Mapping[str, str], wanted: Mapping[str, str]) -> bool:
    return all(found.get(key) == value for key, value in wanted.items())


def _ami_name(base: BaseAmi, user_data: UserData, now: datetime) -> str:
    parts = [
        "ebami",
        base.platform,
        user_data.release or user_data.platform.os_family.value,
        base.platform_version or base.image_id,
        now.strftime("%Y%m%dT%H%M%SZ"),
    ]
    return "-".join(part for part in parts if part)


def _description(base: BaseAmi, user_data: UserData) -> str:
    text = (
        f"ebami {__version__}: {base.platform_name} {base.platform_version} from "
        f"{base.image_id}, log drivers {' '.join(user_data.drivers)}"
    )
    return text[:255]


def _check_command(user_data: UserData) -> str:
    """The shell-local command that judges the builder's ecs.config (real-AWS builds)."""
    return shlex.join(
        [
            sys.executable,
            "-m",
            "ebami.bakecheck",
            "--drivers",
            ",".join(user_data.drivers),
            f"{ECS_CONFIG_DIR}/var-lib-ecs.config",
            f"{ECS_CONFIG_DIR}/etc-ecs.config",
        ]
    )
