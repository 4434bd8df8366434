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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ebami.errors import Interrupted, ToolError
from ebami.packer.machine import (
    Artifact,
    MachineLine,
    UiKind,
    parse_artifact_id,
    parse_line,
    ui_text,
)
from ebami.packer.machine import artifacts as artifact_lines
from ebami.packer.process import ProcessRunner

MINIMUM_VERSION = (1, 6, 6)
# Where the template's manifest post-processor writes, relative to Packer's working folder.
MANIFEST_FILE = "manifest.json"
INSTALL_HINT = (
    "install Packer 1.6.6 or newer (Debian and Ubuntu: apt-get install packer; others: "
    "https://developer.hashicorp.com/packer/install)"
)
# Packer asks HashiCorp's checkpoint service for news on every run unless this is set.
QUIET_ENVIRONMENT = {"CHECKPOINT_DISABLE": "1"}

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
    ) -> None:
        self._process = process
        self.binary = binary
        self._environ = {**environ, **QUIET_ENVIRONMENT}
        self._version: Future[tuple[int, int, int]] | None = None

    @classmethod
    def find(cls, process: ProcessRunner, environ: Mapping[str, str]) -> Packer:
        """The `packer` on the caller's PATH; ToolError when there is none."""
        binary = shutil.which("packer", path=environ.get("PATH"))
        if binary is None:
            raise ToolError(f"packer was not found on PATH; {INSTALL_HINT}")
        return cls(process, binary=binary, environ=environ)

    def prefetch_version(self) -> None:
        """Start reading the version in a background thread, so that `packer version` runs
        while ebami plans (about 0.1 s of a Go binary's start, on the other core)."""
        if self._version is None:
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="packer-version")
            self._version = pool.submit(self._read_version)
            pool.shutdown(wait=False)  # the probe finishes on its own; nothing else is queued

    def version(self) -> tuple[int, int, int]:
        """Packer's version; ToolError when it cannot be read or is older than 1.6.6."""
        if self._version is None:
            return self._read_version()
        return self._version.result()

    def _read_version(self) -> tuple[int, int, int]:
        output: list[str] = []
        result = self._process.run(
            [self.binary, "version"], cwd=Path.cwd(), env=self._environ, on_line=output.append
        )
        text = "\n".join(output)
        match = re.search(r"Packer v(\d+)\.(\d+)\.(\d+)", text)
        if result.returncode != 0 or match is None:
            raise ToolError(
                f"cannot read the version of {self.binary} (exit {result.returncode}: "
                f"{_one_line(text) or 'no output'}); {INSTALL_HINT}"
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
            raise ToolError(
                f"packer build failed (exit {returncode}): "
                + _last(collected.errors, "Packer printed no error line; rerun with -v")
            )
        found = _manifest_artifacts(cwd / MANIFEST_FILE) or artifact_lines(collected.lines)
        if not found:
            raise ToolError("packer build succeeded but reported no AMI; rerun with -v")
        return PackerBuild(tuple(found))

    def _run(
        self, arguments: Sequence[str], cwd: Path, on_ui: UiCallback
    ) -> tuple[int, _Collected]:
        collected = _Collected()

        def on_line(raw: str) -> None:
            parsed = parse_line(raw)
            if parsed is not None:
                collected.lines.append(parsed)
            kind, text = ui_text(raw)
            if kind is UiKind.ERROR and text:
                collected.errors.append(text)
            if text:
                on_ui(kind, text)

        result = self._process.run(
            [self.binary, *arguments], cwd=cwd, env=self._environ, on_line=on_line
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


def _last(errors: list[str], default: str) -> str:
    return _one_line(errors[-1]) if errors else default


def _one_line(text: str) -> str:
    return " ".join(text.split())


def dotted(version: tuple[int, ...]) -> str:
    """A version as Packer prints it: `1.6.6`."""
    return ".".join(str(part) for part in version)
