"""The checks `ebami verify` runs on what the probe read from an instance.

Each returns a `CheckResult` with the file lines it rests on, so that a reader can see why
without logging in: the drivers by the ECS agent's own rules, the OS release, and on Amazon
Linux 1 the yum release lock.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from ebami.core.results import CheckResult, CheckStatus
from ebami.image.ecsconfig import effective_drivers
from ebami.image.ecsfiles import (
    DRIVERS_KEY,
    INSTANCE_CONFIG_PATH,
    JSON_CONFIG_PATH,
    USER_CONFIG_PATH,
)
from ebami.image.ecsinit import EcsInitRules
from ebami.image.ecsreport import AGENT_STOPS, DriversOrigin, DriversReport
from ebami.image.platforms import OsFamily
from ebami.verify.expectations import Expectations
from ebami.verify.probe_script import OS_RELEASE, SYSTEM_RELEASE, YUM_CONF, YUM_RELEASEVER, Evidence

SSM = "ssm"
PROBE = "probe"
OS_RELEASE_CHECK = "os-release"
RELEASE_LOCK = "release-lock"
DRIVERS = "logging-drivers"
IMAGE = "image"
# The drivers check's data: the drivers the agent allows, and the ecs-init version.
ALLOWED = "allowed"
ECS_INIT = "ecs_init"
# True when the drivers are ecs-init's default but its version was not read: a guess.
GUESSED = "guessed"


def content_checks(evidence: Evidence, expected: Expectations) -> list[CheckResult]:
    """The checks of an instance's files, in the order they are reported."""
    results = [drivers_check(evidence, expected), os_release_check(evidence, expected)]
    if expected.family is OsFamily.AL1:
        results.append(release_lock_check(evidence, expected))
    return results


def drivers_check(evidence: Evidence, expected: Expectations) -> CheckResult:
    report = effective_drivers(
        [evidence.config(INSTANCE_CONFIG_PATH), evidence.config(USER_CONFIG_PATH)],
        ecs_init=EcsInitRules(evidence.ecs_init_version),
        json_config=evidence.config(JSON_CONFIG_PATH),
    )
    allowed = json.dumps(list(report.drivers))
    required = f"required {', '.join(expected.drivers)} ({expected.drivers_source})"
    lines = tuple(_drivers_evidence(evidence, report))
    # What a later step may rest on (`verify --stock` remembers it): the drivers the agent
    # allows (none when it does not start) and the ecs-init that decided them.
    found: dict[str, object] = {
        ALLOWED: list(report.drivers) if report.agent_starts else [],
        ECS_INIT: evidence.ecs_init_version,
        GUESSED: report.origin is DriversOrigin.ECS_INIT_DEFAULT
        and evidence.ecs_init_version is None,
    }
    if not report.agent_starts:
        reasons = "; ".join(p.message for p in report.problems if p.stops_agent)
        return CheckResult(
            DRIVERS, CheckStatus.FAILED, f"{AGENT_STOPS}: {reasons}; {required}", lines, found
        )
    missing = report.missing(expected.drivers)
    if missing:
        return CheckResult(
            DRIVERS,
            CheckStatus.FAILED,
            f"{', '.join(missing)} missing: the agent allows {allowed}, "
            f"{_origin(report, evidence)}; {required}",
            lines,
            found,
        )
    return CheckResult(
        DRIVERS,
        CheckStatus.PASSED,
        f"the agent allows {allowed}, {_origin(report, evidence)}; {required}",
        lines,
        found,
    )


def _origin(report: DriversReport, evidence: Evidence) -> str:
    if report.origin is DriversOrigin.CONFIG and report.line is not None:
        return f"as set on {report.line.path} line {report.line.number}"
    if report.origin is DriversOrigin.ECS_INIT_DEFAULT:
        version = evidence.ecs_init_version or "of unknown version"
        return f"ecs-init {version}'s default (no line sets {DRIVERS_KEY})"
    if report.origin is DriversOrigin.JSON_CONFIG:
        return f"as {JSON_CONFIG_PATH} sets them, because ecs.config yields no driver"
    if report.line is None:
        return f"its own default (ecs-init {evidence.ecs_init_version} sets none)"
    return "its fallback, because the line that sets them yields no driver"


def _drivers_evidence(evidence: Evidence, report: DriversReport) -> Iterator[str]:
    for path in (INSTANCE_CONFIG_PATH, USER_CONFIG_PATH):
        if evidence.text(path) is None:
            yield f"{path}: absent"
    shown = set()
    for line in (report.line, *(line for p in report.problems for line in p.lines)):
        if line is not None and str(line) not in shown:
            shown.add(str(line))
            yield str(line)
    for problem in report.problems:
        yield f"{problem.severity.value}: {problem.message}"
    if report.origin is not DriversOrigin.CONFIG or not report.agent_starts:
        yield f"rpm -q ecs-init: {evidence.ecs_init_version or 'not installed or unknown'}"


def os_release_check(evidence: Evidence, expected: Expectations) -> CheckResult:
    text = evidence.text(OS_RELEASE)
    if text is None:
        return CheckResult(OS_RELEASE_CHECK, CheckStatus.FAILED, f"{OS_RELEASE} is absent")
    values = dict(_key_values(text, OS_RELEASE))
    version = values.get("VERSION_ID", ("", ""))[0]
    pretty = values.get("PRETTY_NAME", (version, ""))[0] or version or "an unknown OS"
    lines = tuple(line for key, (_, line) in values.items() if key in ("VERSION_ID", "PRETTY_NAME"))
    system = (evidence.text(SYSTEM_RELEASE) or "").strip().splitlines()
    if system:
        lines += (f"{SYSTEM_RELEASE}:1: {system[0]}",)
    release = expected.release
    if release.value is None:
        return CheckResult(
            OS_RELEASE_CHECK,
            CheckStatus.SKIPPED,
            f"runs {pretty}; the AMI's release is {release.source}",
            lines,
        )
    if version == release.value or version.startswith(release.value + "."):
        return CheckResult(
            OS_RELEASE_CHECK,
            CheckStatus.PASSED,
            f"runs {pretty}, the AMI's release {release.value} ({release.source})",
            lines,
        )
    return CheckResult(
        OS_RELEASE_CHECK,
        CheckStatus.FAILED,
        f"runs release {version or 'unknown'} ({pretty}), but the AMI's release is "
        f"{release.value} ({release.source})",
        lines,
    )


def release_lock_check(evidence: Evidence, expected: Expectations) -> CheckResult:
    """Amazon Linux 1: yum's releasever (a yum/vars file wins over yum.conf) is the release."""
    release = expected.release.value
    lines: list[str] = []
    setting = None
    variable = evidence.text(YUM_RELEASEVER)
    if variable is not None and variable.strip():
        setting = variable.strip().splitlines()[0].strip()
        lines.append(f"{YUM_RELEASEVER}:1: {setting}")
    conf = dict(_yum_main(evidence.text(YUM_CONF) or ""))
    if "releasever" in conf:
        value, line = conf["releasever"]
        lines.append(line)
        setting = setting or value
    effective = setting or "latest"
    if setting is None:
        lines.append(f"{YUM_CONF}: no releasever in [main]; Amazon Linux 1's yum follows latest")
    if release is None:
        return CheckResult(
            RELEASE_LOCK,
            CheckStatus.SKIPPED,
            f"yum's releasever is {effective}; the AMI's release is {expected.release.source}",
            tuple(lines),
        )
    if effective == release:
        return CheckResult(
            RELEASE_LOCK, CheckStatus.PASSED, f"yum stays on {release} (releasever)", tuple(lines)
        )
    return CheckResult(
        RELEASE_LOCK,
        CheckStatus.FAILED,
        f"yum is not locked to {release}: releasever is {effective}, so the next yum update "
        f"leaves {release}; bake with `ebami build --release {release}`",
        tuple(lines),
    )


def image_check(running: str, configured: str | None) -> CheckResult:
    if configured is None:
        return CheckResult(
            IMAGE, CheckStatus.SKIPPED, f"runs {running}; the environment names no ImageId"
        )
    if running == configured:
        return CheckResult(
            IMAGE, CheckStatus.PASSED, f"runs {running}, the AMI the environment is configured with"
        )
    return CheckResult(
        IMAGE,
        CheckStatus.FAILED,
        f"runs {running}, but the environment is configured with {configured}",
    )


def _key_values(text: str, path: str) -> Iterator[tuple[str, tuple[str, str]]]:
    """`KEY=value` lines of an os-release style file: key -> (unquoted value, evidence line)."""
    for number, raw in enumerate(text.splitlines(), start=1):
        key, sep, value = raw.strip().partition("=")
        if sep and key and not key.startswith("#"):
            yield key, (value.strip().strip("\"'"), f"{path}:{number}: {raw.strip()}")


def _yum_main(text: str) -> Iterator[tuple[str, tuple[str, str]]]:
    """The `[main]` options of yum.conf: key -> (value, evidence line)."""
    section = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1].strip()
            continue
        key, sep, value = stripped.partition("=")
        if section == "main" and sep and not key.startswith(("#", ";")):
            yield key.strip(), (value.strip(), f"{YUM_CONF}:{number}: {stripped}")
