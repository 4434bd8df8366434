"""Where ebami writes: results to stdout, progress and diagnostics to stderr.

On a terminal, stderr gets colour through rich; when stderr is not a TTY, or `CI` is set, every
line is plain text. `NO_COLOR` is honoured. Messages are printed as text, never as rich markup,
so brackets in an AWS message are shown as they are.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


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
        self._stderr = stderr
        self._lock = threading.Lock()
        # Per thread: the prefix of its lines (`prefixed`).
        self._thread = threading.local()
        self.plain = bool(environ.get("CI")) or not _isatty(stderr)
        self._no_color = self.plain or "NO_COLOR" in environ
        self._out_is_tty = _isatty(self._stdout) and not environ.get("CI")

    @cached_property
    def _err(self) -> Console:
        # rich is imported on the first message, not at start-up (`--help` prints none).
        from rich.console import Console

        return Console(
            file=self._stderr,
            force_terminal=False if self.plain else None,
            no_color=self._no_color,
            color_system=None if self._no_color else "auto",
            highlight=False,
            soft_wrap=True,
        )

    @contextmanager
    def prefixed(self, name: str) -> Iterator[None]:
        """Within the block, the lines this thread prints on stderr start with `[name] `: the
        progress of several environments applied at once interleaves."""
        previous = getattr(self._thread, "prefix", "")
        self._thread.prefix = f"[{name}] "
        try:
            yield
        finally:
            self._thread.prefix = previous

    # stderr: progress and diagnostics
    def progress(self, message: str) -> None:
        self._say((message, "cyan"))

    def detail(self, message: str) -> None:
        """Printed only with -v."""
        if self.verbosity > 0:
            self._say((message, "dim"))

    def success(self, message: str) -> None:
        self._say((message, "green"))

    def warn(self, message: str) -> None:
        self._say(("warning: ", "bold yellow"), (message, ""))

    def error(self, message: str) -> None:
        self._say(("error: ", "bold red"), (message, ""))

    def event(self, when: str, severity: str, message: str) -> None:
        """An Elastic Beanstalk event, as `eb events` prints it: time, severity, message."""
        style = {"ERROR": "red", "FATAL": "bold red", "WARN": "yellow"}.get(severity, "")
        self._say((f"{when} {severity:<5} ", "dim"), (message, style))

    def diagnostic(self, text: str) -> None:
        """Verbatim text on stderr (a traceback, a block of tool output)."""
        self._stderr.write(text if text.endswith("\n") else text + "\n")
        self._stderr.flush()

    def _say(self, *parts: tuple[str, str]) -> None:
        """One line on stderr: plain text when not on a terminal, styled with rich on one.

        Thread-safe: the AWS session reports slow calls from a watcher thread, and environments
        are applied in threads of their own.
        """
        prefix = getattr(self._thread, "prefix", "")
        if prefix:
            parts = ((prefix, "bold"), *parts)
        with self._lock:
            if self._no_color:
                self._stderr.write("".join(text for text, _ in parts) + "\n")
                self._stderr.flush()
                return
            from rich.text import Text

            self._err.print(Text.assemble(*parts))

    # stdout: results
    def out_text(self, text: str) -> None:
        self._stdout.write(text)
        self._stdout.flush()

    def out_json(self, value: Any) -> None:
        self.out_text(json.dumps(value, indent=2, sort_keys=False) + "\n")

    def out_table(self, rows: Sequence[tuple[str, str]]) -> None:
        if self._out_is_tty:
            from rich.console import Console
            from rich.table import Table

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
