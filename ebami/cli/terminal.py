"""Where ebami writes: results to stdout, progress and diagnostics to stderr.

On a terminal, stderr gets colour through rich; when stderr is not a TTY, or `CI` is set, every
line is plain text. `NO_COLOR` is honoured. Messages are printed as text, never as rich markup,
so brackets in an AWS message are shown as they are.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import IO, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text


class Terminal:
    def __init__(
        self,
        *,
        verbosity: int = 0,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        environ = os.environ if environ is None else environ
        self.verbosity = verbosity
        self._stdout = stdout or sys.stdout
        stderr = stderr or sys.stderr
        self.plain = bool(environ.get("CI")) or not _isatty(stderr)
        no_color = self.plain or "NO_COLOR" in environ
        self._err = Console(
            file=stderr,
            force_terminal=False if self.plain else None,
            no_color=no_color,
            color_system=None if no_color else "auto",
            highlight=False,
            soft_wrap=True,
        )
        self._out_is_tty = _isatty(self._stdout) and not environ.get("CI")

    # stderr: progress and diagnostics
    def progress(self, message: str) -> None:
        self._err.print(Text(message, style="cyan"))

    def detail(self, message: str) -> None:
        """Printed only with -v."""
        if self.verbosity > 0:
            self._err.print(Text(message, style="dim"))

    def success(self, message: str) -> None:
        self._err.print(Text(message, style="green"))

    def warn(self, message: str) -> None:
        self._err.print(Text.assemble(("warning: ", "bold yellow"), message))

    def error(self, message: str) -> None:
        self._err.print(Text.assemble(("error: ", "bold red"), message))

    def diagnostic(self, text: str) -> None:
        """Verbatim text on stderr (a traceback, a block of tool output)."""
        self._err.file.write(text if text.endswith("\n") else text + "\n")
        self._err.file.flush()

    # stdout: results
    def out_text(self, text: str) -> None:
        self._stdout.write(text)
        self._stdout.flush()

    def out_json(self, value: Any) -> None:
        self.out_text(json.dumps(value, indent=2, sort_keys=False) + "\n")

    def out_table(self, rows: Sequence[tuple[str, str]]) -> None:
        if self._out_is_tty:
            table = Table(show_header=False, box=None, pad_edge=False)
            table.add_column(style="bold")
            table.add_column(overflow="fold")
            for key, value in rows:
                table.add_row(key, value)
            Console(file=self._stdout, highlight=False).print(table)
            return
        width = max((len(key) for key, _ in rows), default=0)
        self.out_text("".join(f"{key:<{width}}  {value}\n" for key, value in rows))


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
