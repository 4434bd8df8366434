"""What `ebami verify` runs on an instance over SSM, and how its output is read back.

One read-only shell script collects every file the checks need, base64-encoded between marker
lines (so that content cannot be mistaken for a marker and trailing white space survives),
plus the installed ecs-init version. The checks run here, on the caller's machine, with the
agent's own rules from `ebami.image.ecsconfig`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass

from ebami.core.errors import EbamiError
from ebami.image.ecsfiles import (
    INSTANCE_CONFIG_PATH,
    JSON_CONFIG_PATH,
    USER_CONFIG_PATH,
    ConfigFile,
)

OS_RELEASE = "/etc/os-release"
SYSTEM_RELEASE = "/etc/system-release"
YUM_CONF = "/etc/yum.conf"
YUM_RELEASEVER = "/etc/yum/vars/releasever"
FILES = (
    INSTANCE_CONFIG_PATH,
    USER_CONFIG_PATH,
    JSON_CONFIG_PATH,
    OS_RELEASE,
    SYSTEM_RELEASE,
    YUM_CONF,
    YUM_RELEASEVER,
)
MARK = "==ebami=="
ECS_INIT = "ecs-init"
# stdout the script may print before SSM truncates it (GetCommandInvocation keeps 24000).
OUTPUT_LIMIT = 24000


class ProbeError(EbamiError):
    """The probe's output cannot be read: truncated, or not the script's output at all."""


def script() -> list[str]:
    """The probe as AWS-RunShellScript lines: read-only, no network, no package manager use."""
    return [
        f"for f in {' '.join(FILES)}; do",
        f'  if [ -f "$f" ]; then echo "{MARK} file $f"; base64 "$f" || exit 3;',
        f'  else echo "{MARK} missing $f"; fi',
        "done",
        f'echo "{MARK} {ECS_INIT} $(rpm -q {ECS_INIT} 2>/dev/null | head -n 1)"',
        f'echo "{MARK} end"',
    ]


@dataclass(frozen=True)
class Evidence:
    """The files as read on the instance (None: absent) and the ecs-init package, if any.

    Text is decoded with surrogateescape, so the bytes the agent reads are kept exactly."""

    files: Mapping[str, str | None]
    ecs_init_version: str | None

    def text(self, path: str) -> str | None:
        return self.files.get(path)

    def config(self, path: str) -> ConfigFile:
        return ConfigFile(path, self.files.get(path))


def parse(output: str) -> Evidence:
    """Read the probe's stdout; ProbeError when it is cut short or malformed."""
    files: dict[str, str | None] = {}
    ecs_init: str | None = None
    current: str | None = None
    chunks: list[str] = []
    ended = False

    def close() -> None:
        if current is not None:
            try:
                files[current] = base64.b64decode("".join(chunks), validate=True).decode(
                    "utf-8", errors="surrogateescape"
                )
            except (binascii.Error, ValueError) as exc:
                raise ProbeError(f"the probe's copy of {current} is not base64: {exc}") from exc

    for line in output.splitlines():
        if not line.startswith(MARK + " "):
            if current is None:
                raise ProbeError(f"unexpected line in the probe's output: {line[:80]!r}")
            chunks.append(line.strip())
            continue
        close()
        current, chunks = None, []
        kind, _, rest = line[len(MARK) + 1 :].partition(" ")
        if kind == "file":
            current = rest
        elif kind == "missing":
            files[rest] = None
        elif kind == ECS_INIT:
            ecs_init = _rpm_version(rest.strip())
        elif kind == "end":
            ended = True
            break
    if not ended:
        size = len(output)
        cut = f" ({size} characters: SSM keeps {OUTPUT_LIMIT})" if size >= OUTPUT_LIMIT else ""
        raise ProbeError(f"the probe's output ends early{cut}; a file may be too large to read")
    return Evidence(files, ecs_init)


def _rpm_version(text: str) -> str | None:
    """`ecs-init-1.16.2-1.amzn1.x86_64` -> `1.16.2-1.amzn1.x86_64`; None if not installed."""
    prefix = ECS_INIT + "-"
    if text.startswith(prefix) and text[len(prefix) : len(prefix) + 1].isdigit():
        return text[len(prefix) :]
    return None
