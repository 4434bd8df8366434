"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ebami.core.errors import InputError


def comma_list(value: str | None) -> list[str] | None:
    """A comma-separated flag as a list (None when the flag was not given)."""
    return value.split(",") if value is not None else None


PlatformOption = Annotated[
    str | None,
    typer.Option(
        "--platform",
        "-p",
        help="multicontainer-docker, ecs-al2, ecs-al2023 or a full platform name.",
    ),
]
ReleaseOption = Annotated[
    str | None,
    typer.Option(
        "--release",
        help="OS release: 2017.09, 2018.03... on Amazon Linux 1; 2 on AL2; 2023 on AL2023.",
    ),
]


def parse_tags(items: list[str], option: str) -> dict[str, str]:
    """`--tag KEY=VALUE` flags as a mapping."""
    tags: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"{option} {item!r} is not KEY=VALUE; write {option} team=platform")
        tags[key.strip()] = value.strip()
    return tags


# --- options several commands share, declared once ---------------------------------------------

EnvsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--env",
        help="An environment: a configured [environments.NAME] or an environment name; repeatable.",
    ),
]
RegionsOption = Annotated[
    str | None,
    typer.Option(
        "--regions",
        help="Comma-separated regions to include too, beyond the home region, its copy_to "
        "regions and those of [environments.*].",
    ),
]
AllRegionsOption = Annotated[
    bool, typer.Option("--all-regions", help="Every region the account has enabled.")
]
MaxAgeOption = Annotated[
    int, typer.Option("--max-age", help="Days after which an environment's AMI is too old.")
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Show the plan the run would execute; change nothing.")
]
RecordOption = Annotated[
    Path | None,
    typer.Option("--record", help="Write what happened (JSON) to this file.", dir_okay=False),
]


def environment_names(envs: list[str] | None, option: str = "--env") -> list[str]:
    """The environments a repeatable `--env` names: none empty, each once (`named_once`, the
    one rule of every command that takes several)."""
    from ebami.config.settings import named_once

    names = list(envs or [])
    if any(not name.strip() for name in names):
        raise InputError(f"{option} '' is empty: give an environment name or [environments.NAME]")
    return named_once((name, option) for name in names)


def region_list(
    value: str | None, option: str = "--regions", *, all_regions: bool = False
) -> list[str]:
    """The regions of a comma-separated option, each checked (`--all-regions` excludes it)."""
    from ebami.config.formats import check_region

    if value is None:
        return []
    if all_regions:
        raise InputError("--regions and --all-regions exclude each other: give one of them")
    found: list[str] = []
    for item in value.split(","):
        try:
            found.append(check_region(item.strip()))
        except ValueError as exc:
            raise InputError(f"{option}: {exc}") from None
    return found
