"""The typed context every command receives: terminal, output format, settings layers.

Light on purpose: `--help` builds it, so it imports nothing a command does not need. What
talks to AWS or runs Packer is made by `ebami.cli.factory.Factory`, on first use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ebami.cli.terminal import Terminal

if TYPE_CHECKING:
    from ebami.aws.session import ApiCallCounter
    from ebami.cli.github import GithubOutputs
    from ebami.config.settings import Settings


class OutputFormat(str, Enum):
    TABLE = "table"
    JSON = "json"
    # Tables on stdout, plus step outputs, a job summary and annotations (ebami.cli.github).
    GITHUB = "github"


@dataclass
class AppContext:
    """Built once by the root callback; settings and AWS are made on first use."""

    terminal: Terminal
    output: OutputFormat
    config_file: Path | None
    global_flags: dict[str, Any]
    stats: bool = False
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    # Set by the factory when it opens the AWS session, for `--debug`'s call counts.
    counter: ApiCallCounter | None = None

    @classmethod
    def of(cls, ctx: typer.Context) -> AppContext:
        app_context = ctx.find_object(cls)
        if app_context is None:  # pragma: no cover - the root callback always sets it
            raise RuntimeError("ebami's root callback did not run")
        return app_context

    @property
    def json(self) -> bool:
        return self.output is OutputFormat.JSON

    @cached_property
    def github(self) -> GithubOutputs | None:
        """Where `-o github` writes (None for the other formats); refused outside Actions, and
        when $GITHUB_OUTPUT or $GITHUB_STEP_SUMMARY cannot be written. Made once."""
        if self.output is not OutputFormat.GITHUB:
            return None
        from ebami.cli.github import GithubOutputs

        return GithubOutputs(self.environ)

    def check_output(self) -> None:
        """Refuse, before any command runs, an output format that cannot work here: -o github
        needs $GITHUB_OUTPUT, and each file it writes to proven writable."""
        self.github  # noqa: B018 - made to be checked

    def settings(self, **command_flags: Any) -> Settings:
        """Load the settings with the global flags and this command's flags on top."""
        from ebami.config.settings import load_settings

        return load_settings(self.config_file, self.environ, {**self.global_flags, **command_flags})

    def report_stats(self) -> None:
        """Print the API calls made, per operation (with --debug or EBAMI_STATS=1)."""
        if not self.stats:
            return
        counter = self.counter
        if counter is None or counter.total == 0:
            self.terminal.diagnostic("API calls: none")
            return
        lines = [f"API calls: {counter.total}", *(f"  {line}" for line in counter.lines())]
        self.terminal.diagnostic("\n".join(lines))
