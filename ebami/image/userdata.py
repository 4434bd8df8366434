"""Renders and validates the cloud-config user data that carries the fix.

The templates live in `templates/cloud-config/`, one per OS family (lock-on-launch differs), and
share the idempotent edit of `/etc/ecs/ecs.config`. Every value is validated before it reaches a
template, and every string a template prints goes through `yaml_quote`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import jinja2

from ebami.core.errors import InputError, one_line
from ebami.core.resources import data_dir
from ebami.core.results import CheckResult, CheckStatus
from ebami.image.drivers import parse_drivers
from ebami.image.ecsfiles import DRIVERS_KEY
from ebami.image.platforms import Platform

# EC2 refuses user data larger than 16 KB (before base64 encoding).
MAX_USER_DATA_BYTES = 16 * 1024
HEADER = "#cloud-config"
# AWS's own download of the SSM agent for x86_64 rpm-based Linux; yum installs it from the URL.
SSM_AGENT_RPM_URL = "https://s3.amazonaws.com/ec2-downloads-windows/SSMAgent/latest/linux_amd64/amazon-ssm-agent.rpm"


@dataclass(frozen=True)
class UserData:
    """Rendered cloud-config and what it was rendered from."""

    platform: Platform
    release: str | None
    drivers: tuple[str, ...]
    text: str
    packages: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return len(self.text.encode("utf-8"))

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def drivers_line(drivers: Sequence[str]) -> str:
    """The ecs.config line as the agent reads it: a raw, compact JSON array, no quotes."""
    return f"{DRIVERS_KEY}={json.dumps(list(drivers), separators=(',', ':'))}"


def render_user_data(
    platform: Platform,
    drivers: Sequence[str],
    release: str | None = None,
    *,
    packages: Sequence[str] = (),
) -> UserData:
    """Render the user data for `platform`; `release` is required where it pins repositories.

    Drivers the platform's ECS agent would reject are refused (`InputError`).

    `packages` are installed at boot (names, or rpm URLs).
    """
    names = parse_drivers(drivers)
    if release is not None:
        release = platform.validate_release(release)
    elif platform.releases_pin_repositories:
        raise InputError(
            f"{platform.alias} runs {platform.os_family.display_name}: pass --release, one of "
            f"{', '.join(platform.releases)}"
        )
    # A name the platform's agent does not know would bake an AMI whose agent never starts.
    names = parse_drivers(names, agent=platform.agent_versions(release), target=platform.alias)
    template = _environment().get_template(f"{platform.os_family.value}.yaml.j2")
    # The ebami version is deliberately not rendered: the user data feeds the bake key, and an
    # upgrade of ebami that changes nothing in the image must not force a rebuild.
    text = template.render(
        platform=platform,
        release=release,
        drivers_line=drivers_line(names),
        packages=list(packages),
    )
    text = text.rstrip("\n") + "\n"
    return UserData(
        platform=platform, release=release, drivers=names, text=text, packages=tuple(packages)
    )


def yaml_quote(value: str) -> str:
    """Quote any string as a YAML scalar that loads back to exactly `value`."""
    if value.isprintable():
        return "'" + value.replace("'", "''") + "'"
    escaped: list[str] = []
    for char in value:
        code = ord(char)
        if char in '"\\':
            escaped.append("\\" + char)
        elif 0x20 <= code < 0x7F:
            escaped.append(char)
        elif code <= 0xFFFF:
            escaped.append(f"\\u{code:04x}")
        else:
            escaped.append(f"\\U{code:08x}")
    return '"' + "".join(escaped) + '"'


def check_structure(text: str) -> list[CheckResult]:
    """The checks that need no tool: header, a YAML mapping, and the EC2 size limit."""
    import yaml  # only `render` checks the YAML; a build renders without loading it

    results: list[CheckResult] = []
    first_line = text.split("\n", 1)[0].rstrip("\r")
    results.append(
        CheckResult("header", CheckStatus.PASSED, HEADER)
        if first_line == HEADER
        else CheckResult(
            "header", CheckStatus.FAILED, f"first line is {first_line!r}, not {HEADER}"
        )
    )
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        results.append(CheckResult("yaml", CheckStatus.FAILED, one_line(str(exc))))
    else:
        results.append(
            CheckResult("yaml", CheckStatus.PASSED, "a YAML mapping")
            if isinstance(document, dict)
            else CheckResult(
                "yaml", CheckStatus.FAILED, f"a YAML {type(document).__name__}, not a mapping"
            )
        )
    size = len(text.encode("utf-8"))
    results.append(
        CheckResult(
            "size",
            CheckStatus.PASSED if size <= MAX_USER_DATA_BYTES else CheckStatus.FAILED,
            f"{size} of {MAX_USER_DATA_BYTES} bytes",
        )
    )
    return results


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(data_dir("templates") / "cloud-config"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - YAML, not HTML; values go through yaml_quote
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["yaml_quote"] = yaml_quote
    return env
