"""The JSON record of a build (`--record FILE`, `--output json`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ebami import __version__
from ebami.build.actions import Baked, BuiltMeanwhile
from ebami.build.options import BuildOptions
from ebami.build.planner import BuildPlan
from ebami.build.steps import reuse_steps
from ebami.core.errors import Leftover
from ebami.core.files import write_atomically
from ebami.core.plan import Executor, Plan
from ebami.core.reporting import Reporter
from ebami.core.times import utc_timestamp

if TYPE_CHECKING:
    from ebami.aws.ec2_values import Image


@dataclass(frozen=True)
class BuildRecord:
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
    # The run that wrote this record (`ebami:build-run` on what it made).
    build_run: str
    started_at: str
    finished_at: str
    # What its clean-up could not remove, each with the command that removes it.
    left_behind: tuple[Leftover, ...]
    ebami_version: str = __version__

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def run_build(
    plan: BuildPlan,
    options: BuildOptions,
    steps: Plan,
    executor: Executor,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> BuildRecord:
    """Execute the build's instructions; the record of what they made.

    When another run baked the bake key while this one waited for the lease, its AMI is
    reused: the plan of a build that found its AMI runs instead (shares, tags, publishing).
    """
    started = now()
    try:
        outputs = executor.execute(steps)
    except BuiltMeanwhile as found:
        plan = replace(plan, existing=found.image)
        outputs = executor.execute(reuse_steps(plan, options, dict(steps.facts)))
    return build_record(
        plan,
        options,
        outputs,
        packer_source=str(steps.facts["Packer source"]),
        started=started,
        finished=now(),
        left_behind=tuple(executor.left_behind),
    )


def build_record(
    plan: BuildPlan,
    options: BuildOptions,
    outputs: Mapping[str, Any],
    *,
    packer_source: str,
    started: datetime,
    finished: datetime,
    left_behind: tuple[Leftover, ...],
) -> BuildRecord:
    """The record of an executed build plan, from what its instructions returned."""
    image: Image = outputs["image"]
    baked: Baked | None = outputs.get("baked")
    images = (
        [{"region": a.region, "image_id": a.image_id} for a in baked.artifacts]
        if baked
        else [{"region": plan.region, "image_id": image.image_id}]
    )
    return BuildRecord(
        image_id=image.image_id,
        region=plan.region,
        images=images,
        ami_name=image.name,
        skipped=baked is None,
        bake_key=plan.bake_key.value,
        base_ami=asdict(plan.base),
        release=plan.user_data.release,
        drivers=list(plan.user_data.drivers),
        user_data_sha256=plan.user_data.sha256,
        ssm_agent_installed=bool(plan.user_data.packages),
        snapshot_ids=list(image.snapshot_ids),
        tags=image.tags,
        packer_version=baked.packer_version if baked else None,
        packer_source=packer_source,
        builder_requires_imdsv2=baked.builder_requires_imdsv2 if baked else None,
        ssm_parameter=options.ssm_parameter,
        build_run=plan.run_id,
        started_at=utc_timestamp(started),
        finished_at=utc_timestamp(finished),
        left_behind=left_behind,
    )


def save_record(record: BuildRecord, path: Path, reporter: Reporter) -> None:
    """`--record FILE`: the build record as JSON, written whole or not at all."""
    write_atomically(path, json.dumps(record.to_json(), indent=2) + "\n", option="--record")
    reporter.detail(f"wrote the build record to {path}")
