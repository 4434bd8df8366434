"""The actions of a build, one method per instruction of its plan: take the build lease, run
Packer on a private work folder, make sure the AMI and its snapshots carry the provenance tags,
share and tag an AMI that exists already, publish the AMI id; then, whatever happened, remove
what this run registered but did not finish and release the lease.

AWS shows some of this late, and the build waits for it: the AMI Packer just made may answer
NotFound for a while (EC2's eventual consistency: reading and tagging it are tried again,
`ebami.aws.visibility.once_visible`), and a published id is validated by SSM after PutParameter
answers (the build waits for the new version, `ebami.aws.ssm_versions.wait_for_version`; a
value SSM drops fails the build naming the parameter and the AMI, which stays built)."""

from __future__ import annotations

import json
import socket
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ebami.aws.ssm_versions import (
    VALIDATION_SECONDS,
    ValueNotTaken,
    image_refusal,
    wait_for_version,
)
from ebami.aws.visibility import VISIBLE_SECONDS, once_visible
from ebami.build.lease import BuildInProgress, Lease, Leases, LeaseSsm
from ebami.build.leftovers import AwsCommands
from ebami.build.variables import USER_DATA_FILE
from ebami.core.errors import AccessDenied, AwsError, LeftBehind, Leftover, NotFoundError, ToolError
from ebami.core.reporting import Reporter
from ebami.core.times import utc_timestamp
from ebami.core.waiting import Clock, Deadline, Sleep, poll_until
from ebami.image import tags as tag_names
from ebami.image.bake import reusable
from ebami.image.managed import ManagedImage
from ebami.packer.machine import Artifact, OwnRemoval, UiKind, own_image_removal, registered_image
from ebami.packer.runner import PackerBuild, UiCallback, dotted, duration
from ebami.packer.template import AWS_SOURCE, assemble

if TYPE_CHECKING:
    from ebami.aws.ec2_values import Image
    from ebami.aws.ssm import ParameterVersion

VAR_FILE = "variables.pkrvars.json"


class BuildActionsEc2(Protocol):
    """The EC2 calls `BuildActions` makes (`ebami.aws.ec2.Ec2` has them)."""

    def get_image(self, image_id: str) -> Image: ...

    def find_images_by_tag(self, key: str, value: str) -> list[Image]: ...

    def find_own_images_by_tag(self, key: str, value: str) -> list[Image]: ...

    def snapshot_tags(self, snapshot_ids: tuple[str, ...]) -> dict[str, dict[str, str]]: ...

    def tag_resources(self, resource_ids: list[str], tags: dict[str, str]) -> None: ...

    def share_image(self, image_id: str, account_ids: Sequence[str]) -> None: ...

    def delete_image(self, image: Image) -> None: ...


class BuildActionsSsm(LeaseSsm, Protocol):
    """The SSM calls `BuildActions` makes (`ebami.aws.ssm.Ssm`): the lease's and publishing."""

    def publish_image_id(self, name: str, image_id: str) -> int: ...

    def history(self, name: str) -> Sequence[ParameterVersion]: ...


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


class BuiltMeanwhile(Exception):
    """Another run baked this bake key while this one waited for the lease: reuse its AMI."""

    def __init__(self, image: Image) -> None:
        super().__init__(image.image_id)
        self.image = image


class BuildActions:
    def __init__(
        self,
        *,
        ec2: BuildActionsEc2,
        ssm: Callable[[], BuildActionsSsm],
        packer: Callable[[], BuildActionsPacker],
        region: str,
        cli: AwsCommands,
        reporter: Reporter,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        host: str | None = None,
    ) -> None:
        """`cli` writes the commands that remove what this run could not; `now` stamps the
        lease (other machines read it); `clock` and `sleep` pace the wait for another run's
        lease; `host` names this machine in the lease (its host name)."""
        self._ec2 = ec2
        self._ssm = ssm
        self._packer = packer
        self._region = region
        self._cli = cli
        self._reporter = reporter
        self._now = now
        self._clock = clock
        self._sleep = sleep
        self._host = host or socket.gethostname()
        # The AMIs Packer said it registered in this run; a failed bake may leave them pending.
        self._registered: list[str] = []
        # Whether Packer said it removes the AMI it registered (and whether that failed).
        self._own_removal: OwnRemoval | None = None
        self._baking = False

    # --- the lease ---------------------------------------------------------------------------

    def acquire_lease(self, *, name: str, run_id: str, seconds: float, wait: bool) -> Lease | None:
        """This run's lease on the bake key, waiting up to `seconds` (as long as a lease
        lasts) while another run holds it; None when the caller may not use SSM (the build
        goes on, unguarded, and says so)."""
        leases = self._leases()
        holder: Lease | None = None

        def taken() -> Lease | None:
            nonlocal holder
            found = leases.take(name, run_id, seconds)
            if found is not None and found.run_id == run_id:
                return found
            holder = found or holder
            return None

        try:
            lease = taken()
            if lease is not None:
                return lease
            if not wait:
                raise BuildInProgress(
                    f"another build of this bake key is running ({_holder(holder)}); not "
                    "waiting (--no-wait): rerun later, or without --no-wait to wait for it"
                    + (f"; {self._free(holder)}" if holder else "")
                )
            if holder is not None:
                self._reporter.progress(self._free(holder))
            lease = poll_until(
                taken,
                Deadline(seconds, clock=self._clock, sleep=self._sleep),
                waiting_for=lambda: (
                    f"another build of this bake key is running ({_holder(holder)}); waiting"
                ),
                report=self._reporter.progress,
            )
        except AccessDenied as exc:
            self._reporter.warn(
                f"no build lease ({exc.message}): another build of this bake key at the same "
                "time would bake it too"
            )
            return None
        if lease is None:
            raise BuildInProgress(
                f"gave up after {duration(seconds)}: another build of this bake key still holds "
                f"the lease {name} ({_holder(holder)})"
            )
        return lease

    def recheck_bake_key(self, *, bake_key: str) -> None:
        """Raise BuiltMeanwhile when an AMI carrying the bake key exists now."""
        # A revoked AMI carrying the key is no bake to reuse (`ebami.image.bake.reusable`).
        image, _ = reusable(self._ec2.find_images_by_tag(tag_names.BAKE_KEY, bake_key))
        if image is not None:
            by = ManagedImage.of(image).build_run
            self._reporter.progress(
                f"{image.image_id} was baked meanwhile"
                + (f" by build run {by}" if by else "")
                + ": reusing it"
            )
            raise BuiltMeanwhile(image)

    def release_lease(self, *, lease: Lease | None) -> None:
        if lease is None:
            return
        try:
            self._leases().release(lease)
        except AwsError as exc:
            raise LeftBehind(
                [
                    Leftover(
                        f"build lease {lease.name}",
                        f"{exc.message}; other builds of this bake key wait for it until it "
                        f"expires at {utc_timestamp(lease.expires)}",
                        self._cli.command("ssm", "delete-parameter", "--name", lease.name),
                    )
                ]
            ) from exc

    def _free(self, holder: Lease) -> str:
        return (
            f"if {holder.holder()} is not running any more (killed), its lease expires at "
            f"{utc_timestamp(holder.expires)}; this frees it now: "
            + self._cli.command("ssm", "delete-parameter", "--name", holder.name)
        )

    def _leases(self) -> Leases:
        return Leases(self._ssm(), host=self._host, now=self._now, reporter=self._reporter)

    # --- baking ------------------------------------------------------------------------------

    def reuse_image(self, image: Image) -> Image:
        return image

    def bake(self, *, source: str, user_data: str, variables: Mapping[str, Any]) -> Baked:
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
            self._baking = True
            result = packer.build(
                template.folder, var_file=var_file, only=source, cwd=work, on_ui=self._on_ui
            )
        self._reporter.progress(
            "built " + ", ".join(f"{a.image_id} in {a.region}" for a in result.artifacts)
        )
        home = [a for a in result.artifacts if a.region == self._region]
        others = [a for a in result.artifacts if a.region != self._region]
        if not home:
            raise ToolError(f"packer build reported no AMI in {self._region}")
        return Baked(tuple(home + others), dotted(version), imdsv2)

    def tag_image(self, *, baked: Baked, tags: Mapping[str, str]) -> Image:
        """Read the AMI back; tag it and its snapshots where Packer did not. The AMI is new:
        while EC2 does not show it yet, both are tried again."""
        image_id = baked.artifacts[0].image_id

        def read_and_tag() -> Image:
            image = self._ec2.get_image(image_id)
            if image.state != "available":
                raise ToolError(f"Packer reported {image_id}, but it is {image.state}")
            return self._tag_where_missing(image, tags, "the provenance tags")

        deadline = Deadline(VISIBLE_SECONDS, clock=self._clock, sleep=self._sleep)
        return once_visible(
            read_and_tag, deadline, what=f"AMI {image_id}", report=self._reporter.progress
        )

    def discard_unfinished(self, *, run_id: str, baked: Baked | None) -> None:
        """Remove an AMI this run registered but did not finish: one Packer reported (a
        pending AMI carries no tags yet) and did not say it deregistered itself, or one
        carrying this run's `ebami:build-run`. Never an AMI found by name: a run started in the
        same second has the same name. What cannot be removed is raised as `LeftBehind`, with
        the command that removes it."""
        if baked is not None or not self._baking:
            return
        left: list[Leftover] = []
        candidates = dict.fromkeys(self._registered)
        try:
            for image in self._ec2.find_own_images_by_tag(tag_names.BUILD_RUN, run_id):
                candidates[image.image_id] = None
        except AwsError as exc:
            left.append(
                Leftover(
                    f"any AMI tagged {tag_names.BUILD_RUN}={run_id}",
                    f"this run's images could not be listed: {exc.message}",
                    self._cli.command(
                        "ec2",
                        "describe-images",
                        "--owners",
                        "self",
                        "--filters",
                        f"Name=tag:{tag_names.BUILD_RUN},Values={run_id}",
                    )
                    + " (then deregister-image each)",
                )
            )
        for image_id in candidates:
            if image_id in self._registered and self._own_removal is OwnRemoval.STARTED:
                continue  # Packer removed it itself (it shows an error when that fails)
            try:
                self._discard(image_id, run_id, just_made=image_id in self._registered)
            except AwsError as exc:
                left.append(
                    Leftover(
                        f"AMI {image_id}",
                        f"registered by this run and left unfinished; {exc.message}",
                        self._cli.command("ec2", "deregister-image", "--image-id", image_id),
                    )
                )
        if left:
            raise LeftBehind(left)

    def _discard(self, image_id: str, run_id: str, *, just_made: bool) -> None:
        """`just_made`: Packer registered it moments ago, so EC2 may not show it yet: a NotFound
        is tried again (Packer's own removal is known by what it says, never by a NotFound)."""

        def look() -> Image:
            return self._ec2.get_image(image_id)

        try:
            if just_made:
                deadline = Deadline(VISIBLE_SECONDS, clock=self._clock, sleep=self._sleep)
                image = once_visible(
                    look, deadline, what=f"AMI {image_id}", report=self._reporter.progress
                )
            else:
                image = look()
        except NotFoundError:
            return  # removed since it was listed
        made_by = ManagedImage.of(image).build_run
        if made_by is not None and made_by != run_id:
            return  # another run's, whatever this run's Packer printed
        self._reporter.progress(
            f"removing {image.image_id} ({image.state}), registered by this run and left unfinished"
        )
        self._ec2.delete_image(image)

    # --- an AMI that exists already ----------------------------------------------------------

    def share_image(self, *, image: Image, accounts: list[str], copies: list[str]) -> None:
        self._ec2.share_image(image.image_id, accounts)
        self._reporter.progress(f"{', '.join(accounts)} may launch {image.image_id}")
        if copies:
            self._reporter.warn(_copies_unchanged(copies, "--share-with"))

    def tag_existing(self, *, image: Image, tags: Mapping[str, str], copies: list[str]) -> Image:
        tagged = self._tag_where_missing(image, tags, "the tags asked for")
        if copies:
            self._reporter.warn(_copies_unchanged(copies, "--tag"))
        return tagged

    def publish_parameter(self, *, name: str, image: Image) -> int:
        """Write the AMI id and wait until SSM shows the version it answered."""
        ssm = self._ssm()
        version = ssm.publish_image_id(name, image.image_id)
        deadline = Deadline(VALIDATION_SECONDS, clock=self._clock, sleep=self._sleep)
        try:
            written = wait_for_version(
                ssm,
                name,
                image.image_id,
                version,
                deadline,
                report=self._reporter.progress,
                refusal=image_refusal(self._ec2, image.image_id),
            )
        except ValueNotTaken as exc:
            raise ValueNotTaken(
                f"{image.image_id} is built, but not published: {exc.message}; publish it "
                "again with: "
                + self._cli.command(
                    "ssm",
                    "put-parameter",
                    "--name",
                    name,
                    "--value",
                    image.image_id,
                    "--type",
                    "String",
                    "--data-type",
                    "aws:ec2:image",
                    "--overwrite",
                )
            ) from exc
        if written.superseded:
            self._reporter.warn(
                f"{name} names {written.version.value} now (version {written.version.version}), "
                f"not {image.image_id}: another writer published after this build"
            )
        self._reporter.progress(f"published {image.image_id} as {name} (version {version})")
        return version

    def _tag_where_missing(self, image: Image, tags: Mapping[str, str], what: str) -> Image:
        untagged = [image.image_id] if not _carries(image.tags, tags) else []
        snapshots = self._ec2.snapshot_tags(image.snapshot_ids)
        untagged += [sid for sid, found in snapshots.items() if not _carries(found, tags)]
        if untagged:
            self._reporter.progress(f"tagging {', '.join(untagged)} with {what}")
            self._ec2.tag_resources(untagged, dict(tags))
            image = replace(image, tags={**image.tags, **tags})
        return image

    def _on_ui(self, kind: UiKind, text: str) -> None:
        registered = registered_image(kind, text)
        if registered is not None:
            self._registered.append(registered)
        removal = own_image_removal(kind, text)
        if removal is not None:
            self._own_removal = removal
        for line in text.splitlines() or [""]:
            if kind in (UiKind.SAY, UiKind.HEARTBEAT):
                self._reporter.progress("packer: " + line.removeprefix("==> ").strip())
            elif kind is UiKind.ERROR:
                self._reporter.warn("packer: " + line.strip())
            else:
                self._reporter.detail("packer: " + line.strip())


def _carries(found: Mapping[str, str], wanted: Mapping[str, str]) -> bool:
    return all(found.get(key) == value for key, value in wanted.items())


def _holder(lease: Lease | None) -> str:
    return lease.holder() if lease is not None else "it changed hands just now"


def _copies_unchanged(copies: list[str], option: str) -> str:
    return (
        f"{option} was applied to the AMI of the build region only: its copies in "
        f"{', '.join(copies)} are unchanged (apply it there with the AWS CLI)"
    )
