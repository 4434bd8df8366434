"""The Packer runner: version detection, `init` and `build`, in ebami's terms.

It turns Packer's machine-readable stream into progress callbacks, reads the AMIs from the
manifest post-processor (falling back to the `artifact` lines) and turns failures into
`ToolError`s that carry Packer's own error line. The process itself is behind `ProcessRunner`.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ebami.core.errors import AccessDenied, Interrupted, ToolError, one_line
from ebami.packer.machine import (
    Artifact,
    MachineLine,
    UiKind,
    parse_artifact_id,
    parse_line,
    ui_text,
)
from ebami.packer.machine import artifacts as artifact_lines
from ebami.packer.process import ProcessRunner, Silence, Started

MINIMUM_VERSION = (1, 6, 6)
# Where the template's manifest post-processor writes, relative to Packer's working folder.
MANIFEST_FILE = "manifest.json"
INSTALL_HINT = (
    "install Packer 1.6.6 or newer (Debian and Ubuntu: apt-get install packer; others: "
    "https://developer.hashicorp.com/packer/install)"
)
# Packer asks HashiCorp's checkpoint service for news on every run unless this is set.
QUIET_ENVIRONMENT = {"CHECKPOINT_DISABLE": "1"}

# Packer prints nothing while it waits (for an instance, an AMI, a copy): after this long
# without a line, ebami says that it is still at its last step.
HEARTBEAT_SECONDS = 30.0

UiCallback = Callable[[UiKind, str], None]


@dataclass(frozen=True)
class PackerBuild:
    """What one `packer build` made."""

    artifacts: tuple[Artifact, ...]


@dataclass
class _Collected:
    lines: list[MachineLine] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Packer:
    def __init__(
        self,
        process: ProcessRunner,
        *,
        binary: str,
        environ: Mapping[str, str],
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
    ) -> None:
        """`heartbeat_seconds`: after this long without a line from Packer (waiting for an AMI
        prints nothing for minutes), say that it is still at its last step, and again as often."""
        self._process = process
        self.binary = binary
        self._environ = {**environ, **QUIET_ENVIRONMENT}
        self._heartbeat_seconds = heartbeat_seconds
        self._probe: Started | None = None
        self._version: tuple[int, int, int] | None = None

    @classmethod
    def find(cls, process: ProcessRunner, environ: Mapping[str, str]) -> Packer:
        """The `packer` on the caller's PATH; ToolError when there is none."""
        binary = shutil.which("packer", path=environ.get("PATH"))
        if binary is None:
            raise ToolError(f"packer was not found on PATH; {INSTALL_HINT}")
        return cls(process, binary=binary, environ=environ)

    def prefetch_version(self) -> None:
        """Start `packer version` now, so that it runs while ebami plans (about 0.1 s of a Go
        binary's start, on the other core); `version` reads its answer."""
        if self._probe is None and self._version is None:
            self._probe = self._start(["version"], Path.cwd())

    def version(self) -> tuple[int, int, int]:
        """Packer's version; ToolError when it cannot be read or is older than 1.6.6,
        Interrupted when Ctrl-C or SIGTERM stopped `packer version`."""
        if self._version is None:
            probe, self._probe = self._probe or self._start(["version"], Path.cwd()), None
            self._version = self._read_version(probe)
        return self._version

    def _read_version(self, probe: Started) -> tuple[int, int, int]:
        output: list[str] = []
        result = probe.finish(output.append)
        if result.interrupted_by is not None:
            # Not "cannot read the version": the user stopped the run.
            raise Interrupted(
                f"interrupted ({result.interrupted_by.name}) while reading Packer's version"
            )
        text = "\n".join(output)
        match = re.search(r"Packer v(\d+)\.(\d+)\.(\d+)", text)
        if result.returncode != 0 or match is None:
            raise ToolError(
                f"cannot read the version of {self.binary} (exit {result.returncode}: "
                f"{one_line(text) or 'no output'}); {INSTALL_HINT}"
            )
        major, minor, patch = (int(part) for part in match.groups())
        version = (major, minor, patch)
        if version < MINIMUM_VERSION:
            raise ToolError(
                f"{self.binary} is Packer {dotted(version)}, older than ebami supports; "
                f"{INSTALL_HINT}"
            )
        return version

    def init(self, folder: Path, on_ui: UiCallback) -> None:
        """`packer init`: install the plugins the template requires (Packer 1.7 or newer)."""
        returncode, collected = self._run(["init", str(folder)], folder, on_ui)
        if returncode != 0:
            raise ToolError("packer init failed: " + _last(collected.errors, "see the lines above"))

    def build(
        self, folder: Path, *, var_file: Path, only: str, cwd: Path, on_ui: UiCallback
    ) -> PackerBuild:
        """`packer build`; the AMIs it made. Packer cleans up after itself on any failure."""
        returncode, collected = self._run(
            [
                "build",
                "-machine-readable",
                "-on-error=cleanup",
                f"-only={only}",
                f"-var-file={var_file}",
                str(folder),
            ],
            cwd,
            on_ui,
        )
        if returncode != 0:
            refused = _refused(collected.errors)
            if refused is not None:
                raise refused
            raise ToolError(
                f"packer build failed (exit {returncode}): "
                + _last(collected.errors, "Packer printed no error line; rerun with -v")
            )
        found = _manifest_artifacts(cwd / MANIFEST_FILE) or artifact_lines(collected.lines)
        if not found:
            raise ToolError("packer build succeeded but reported no AMI; rerun with -v")
        return PackerBuild(tuple(found))

    def _start(self, arguments: Sequence[str], cwd: Path) -> Started:
        try:
            return self._process.start([self.binary, *arguments], cwd=cwd, env=self._environ)
        except OSError as exc:
            raise ToolError(
                f"cannot run {self.binary}: {exc.strerror or exc}; {INSTALL_HINT}"
            ) from exc

    def _run(
        self, arguments: Sequence[str], cwd: Path, on_ui: UiCallback
    ) -> tuple[int, _Collected]:
        collected = _Collected()
        step = ""

        def on_line(raw: str) -> None:
            nonlocal step
            parsed = parse_line(raw)
            if parsed is not None:
                collected.lines.append(parsed)
            kind, text = ui_text(raw)
            if kind is UiKind.ERROR and text:
                collected.errors.append(text)
            if kind is UiKind.SAY and text:
                step = one_line(text.removeprefix("==> "))
            if text:
                on_ui(kind, text)

        def still_running(seconds: float) -> None:
            at = f'at "{step}"' if step else "starting"
            on_ui(UiKind.HEARTBEAT, f"still {at} ({duration(seconds)} without output)")

        result = self._start(arguments, cwd).finish(
            on_line, silence=Silence(self._heartbeat_seconds, still_running)
        )
        if result.interrupted_by is not None:
            raise Interrupted(
                f"interrupted ({result.interrupted_by.name}): packer {arguments[0]} stopped and "
                f"cleaned up (exit {result.returncode})"
            )
        return result.returncode, collected


def _manifest_artifacts(path: Path) -> list[Artifact]:
    """The AMIs of the manifest's last run (the manifest post-processor appends runs)."""
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    last_run = manifest.get("last_run_uuid")
    found: list[Artifact] = []
    for build in manifest.get("builds", []):
        if build.get("packer_run_uuid") == last_run:
            found.extend(parse_artifact_id(str(build.get("artifact_id", ""))))
    return found


def _refused(errors: list[str]) -> AccessDenied | None:
    """The first refusal among Packer's errors (the cause: a later one is of its clean-up after
    it), as ebami's own: the action and what it was on."""
    for line in errors:
        refused = AccessDenied.from_message(line, operation="packer build")
        if refused.action:
            return refused
    return None


def _last(errors: list[str], default: str) -> str:
    return one_line(errors[-1]) if errors else default


def dotted(version: tuple[int, ...]) -> str:
    """A version as Packer prints it: `1.6.6`."""
    return ".".join(str(part) for part in version)


def duration(seconds: float) -> str:
    """`45 s`, `2 min 30 s`, `1 h 5 min`: a wait as people say it."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"
