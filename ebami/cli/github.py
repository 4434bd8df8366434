"""`-o github`: what a command tells a GitHub Actions workflow.

Step outputs go to the file `$GITHUB_OUTPUT` names (`name=value`, or `name<<DELIMITER` lines
for a value that spans lines, with a delimiter the value does not contain), a Markdown summary
to `$GITHUB_STEP_SUMMARY`, and annotations (`::warning::`, `::error::`) to stdout, where the
runner reads workflow commands. `-o github` is asked for explicitly: `GITHUB_ACTIONS` alone does
not turn it on, so a workflow's `-o json` step stays JSON.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from ebami.core.errors import InputError
from ebami.core.files import require_folder

OUTPUT_FILE = "GITHUB_OUTPUT"
SUMMARY_FILE = "GITHUB_STEP_SUMMARY"

# Random delimiters tried for a multi-line output before giving up.
DELIMITER_TRIES = 16


class GithubOutputs:
    def __init__(self, environ: Mapping[str, str], *, stdout: IO[str] | None = None) -> None:
        output = environ.get(OUTPUT_FILE, "")
        if not output:
            raise InputError(
                f"-o github writes step outputs to ${OUTPUT_FILE}, which is not set: use it in "
                f"a GitHub Actions step (or set {OUTPUT_FILE} to a file)"
            )
        self._output = Path(output)
        summary = environ.get(SUMMARY_FILE, "")
        self._summary = Path(summary) if summary else None
        self._stdout = stdout or sys.stdout
        # Before the command runs anything: a target that cannot take the outputs must not be
        # found out after the change they report.
        require_writable(self._output, OUTPUT_FILE, probe=OUTPUT_PROBE)
        if self._summary is not None:
            require_writable(self._summary, SUMMARY_FILE, probe=SUMMARY_PROBE)

    def set(self, values: Mapping[str, str]) -> None:
        """Step outputs; multi-line values with the heredoc syntax."""
        lines = []
        for name, value in values.items():
            if "\n" in value or "\r" in value:
                delimiter = _delimiter(value)
                lines.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
            else:
                lines.append(f"{name}={value}\n")
        _append(self._output, "".join(lines), OUTPUT_FILE)

    def summary(self, markdown: str) -> None:
        if self._summary is not None:
            _append(self._summary, markdown if markdown.endswith("\n") else markdown + "\n",
                    SUMMARY_FILE)  # fmt: skip

    def annotate(self, level: str, message: str, *, title: str = "") -> None:
        """`level`: notice, warning or error."""
        properties = f" title={_escape_property(title)}" if title else ""
        self._stdout.write(f"::{level}{properties}::{_escape_data(message)}\n")
        self._stdout.flush()


def _delimiter(value: str) -> str:
    """A heredoc delimiter `value` does not contain: 64 random bits clash with a value of any
    real size about never, so a few tries are enough."""
    for _ in range(DELIMITER_TRIES):
        candidate = f"EBAMI_{secrets.token_hex(8)}"
        if candidate not in value:
            return candidate
    raise ValueError(f"no heredoc delimiter found in {DELIMITER_TRIES} tries")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


# What proves each target writable, written to it when it exists (a target that does not exist
# yet needs its folder to take a file: `require_folder`). Opening it for appending finds a
# folder, a file or place that is read-only; only a write finds a device or pseudo file that
# refuses data, such as /dev/full (ENOSPC) or a file under /proc (EIO).
#
# $GITHUB_OUTPUT: a newline. GitHub's runner (actions/runner, src/Runner.Worker/
# FileCommandManager.cs) reads the file a line at a time and skips empty lines before looking
# for `name=value` or `name<<DELIMITER` (EnvFileKeyValuePairs, which SetOutputFileCommand uses;
# the runner's test SetOutputFileCommand_Simple_SkipEmptyLines checks exactly this), so the
# newline sets no output, and it ends any line an earlier command left unterminated.
OUTPUT_PROBE = b"\n"
# $GITHUB_STEP_SUMMARY: no byte. The runner does not parse the summary: it uploads the whole
# file as the step's summary whenever it is not empty (CreateStepSummaryCommand skips only an
# empty file), so a newline would give a step that writes no summary a blank one. A write of
# zero bytes writes nothing to a regular file, and on Linux still reaches the write of a device
# or pseudo file, which reports its error (/dev/full: ENOSPC).
SUMMARY_PROBE = b""


def require_writable(path: Path, variable: str, *, probe: bytes) -> None:
    """Refuse, naming `$variable` and `path`, an output target that cannot be written: a
    folder, a file in a folder that is missing or takes no file, a file or device that refuses
    `probe` (appended, unbuffered)."""
    named = f"${variable}"
    # Not blocking: a named pipe nobody reads is refused rather than waited for.
    flags = os.O_WRONLY | os.O_APPEND | getattr(os, "O_NONBLOCK", 0)
    try:
        handle = os.open(path, flags)
    except FileNotFoundError:
        require_folder(path, named)  # not made yet: its folder must take a file
        return
    except IsADirectoryError:
        raise InputError(f"{named} {path}: is a folder; give the path of a file") from None
    except OSError as exc:
        raise InputError(f"{named} {path}: cannot write: {exc.strerror or exc}") from exc
    try:
        os.write(handle, probe)
    except OSError as exc:
        raise InputError(f"{named} {path}: cannot write: {exc.strerror or exc}") from exc
    finally:
        os.close(handle)


def _append(path: Path, text: str, variable: str) -> None:
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise InputError(f"${variable} {path}: cannot write: {exc.strerror or exc}") from exc
