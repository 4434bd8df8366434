"""The actions of a build, one method per instruction of its plan: run Packer on a private work
folder, make sure the AMI and its snapshots carry the provenance tags, publish the AMI id."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ebami.build.variables import USER_DATA_FILE
from ebami.errors import Interrupted, ToolError
from ebami.packer.machine import Artifact, UiKind
from ebami.packer.runner import PackerBuild, UiCallback, dotted
from ebami.packer.template import AWS_SOURCE, assemble
from ebami.reporting import Reporter

if TYPE_CHECKING:
    from ebami.aws.ec2 import Image

VAR_FILE = "variables.pkrvars.json"


class BuildActionsEc2(Protocol):
    """The EC2 calls `BuildActions` makes (`ebami.aws.ec2.Ec2`)."""

    def get_image(self, image_id: str) -> Image: ...

    def snapshot_tags(self, snapshot_ids: tuple[str, ...]) -> dict[str, dict[str, str]]: ...

    def tag_resources(self, resource_ids: list[str], tags: dict[str, str]) -> None: ...

    def find_images_by_name(self, name: str) -> list[Image]: ...

    def delete_image(self, image: Image) -> None: ...


class BuildActionsSsm(Protocol):
    """The SSM call `BuildActions` makes (`ebami.aws.ssm.Ssm`)."""

    def publish_image_id(self, name: str, image_id: str) -> int: ...


class BuildActionsPacker(Protocol):
    """The Packer runs `BuildActions` makes (`ebami.packer.runner.Packer`)."""

    def version(self) -> tuple[int, int, int]: ...

    def init(self, folder: Path, on_ui: UiCallback) -> None: ...

    def build(
        self, folder: Path, *, var_file: Path, only: str, cwd: Path, on_ui: UiCallback
    ) -> PackerBuild: ...


@dataclass(frozen=True)
class Baked:
    """What Packer made: the AMI per region (the home region first) and how."""

    artifacts: tuple[Artifact, ...]
    packer_version: str
    builder_requires_imdsv2: bool | None


class BuildActions:
    def __init__(
        self,
        *,
        ec2: BuildActionsEc2,
        ssm: Callable[[], BuildActionsSsm],
        packer: Callable[[], BuildActionsPacker],
        region: str,
        reporter: Reporter,
    ) -> None:
        self._ec2 = ec2
        self._ssm = ssm
        self._packer = packer
        self._region = region
        self._reporter = reporter

    def reuse_image(self, image: Image) -> Image:
        return image

    def bake(
        self, *, source: str, ami_name: str, user_data: str, variables: Mapping[str, Any]
    ) -> Baked:
        packer = self._packer()
        version = packer.version()
        with tempfile.TemporaryDirectory(prefix="ebami-build-") as folder:
            work = Path(folder)
            template = assemble(work / "template", version)
            (work / USER_DATA_FILE).write_text(user_data, encoding="utf-8")
            var_file = work / VAR_FILE
            var_file.write_text(json.dumps(variables, indent=2), encoding="utf-8")
            imdsv2: bool | None = None
            if source == AWS_SOURCE:
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
            try:
                result = packer.build(
                    template.folder, var_file=var_file, only=source, cwd=work, on_ui=self._on_ui
                )
            except (ToolError, Interrupted):
                self._discard_unfinished(ami_name)
                raise
        self._reporter.progress(
            "built " + ", ".join(f"{a.image_id} in {a.region}" for a in result.artifacts)
        )
        home = [a for a in result.artifacts if a.region == self._region]
        others = [a for a in result.artifacts if a.region != self._region]
        if not home:
            raise ToolError(f"packer build reported no AMI in {self._region}")
        return Baked(tuple(home + others), dotted(version), imdsv2)

    def tag_image(self, *, baked: Baked, tags: Mapping[str, str]) -> Image:
        """Read the AMI back; tag it and its snapshots where Packer did not."""
        image_id = baked.artifacts[0].image_id
        image = self._ec2.get_image(image_id)
        if image.state != "available":
            raise ToolError(f"Packer reported {image_id}, but it is {image.state}")
        untagged = [image.image_id] if not _carries(image.tags, tags) else []
        snapshots = self._ec2.snapshot_tags(image.snapshot_ids)
        untagged += [sid for sid, found in snapshots.items() if not _carries(found, tags)]
        if untagged:
            self._reporter.progress(f"tagging {', '.join(untagged)} with the provenance tags")
            self._ec2.tag_resources(untagged, dict(tags))
            image = replace(image, tags={**image.tags, **tags})
        return image

    def publish_parameter(self, *, name: str, image: Image) -> int:
        version = self._ssm().publish_image_id(name, image.image_id)
        self._reporter.progress(f"published {image.image_id} as {name} (version {version})")
        return version

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
