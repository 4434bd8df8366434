"""`-o github`: what a command tells a GitHub Actions workflow.

Step outputs go to the file `$GITHUB_OUTPUT` names (`name=value`, or `name<<DELIMITER` lines
for a value that spans lines, with a delimiter the value does not contain), a Markdown summary
to `$GITHUB_STEP_SUMMARY`, and annotations (`::warning::`, `::error::`) to stdout, where the
runner reads workflow commands. `-o github` is asked for explicitly: `GITHUB_ACTIONS` alone does
not turn it on, so a workflow's `-o json` step stays JSON.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from ebami.core.errors import InputError

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


def _append(path: Path, text: str, variable: str) -> None:
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise InputError(f"${variable} {path}: cannot write: {exc.strerror or exc}") from exc
