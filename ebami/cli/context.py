"""The typed context every command receives: settings, terminal, output format, AWS access."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ebami.cli.terminal import Terminal
from ebami.settings import Settings, load_settings

if TYPE_CHECKING:
    from ebami.aws.session import ApiCallCounter, AwsSession


class OutputFormat(str, Enum):
    TABLE = "table"
    JSON = "json"


@dataclass
class AppContext:
    """Built once by the root callback; settings and AWS are made on first use."""

    terminal: Terminal
    output: OutputFormat
    config_file: Path | None
    global_flags: dict[str, Any]
    stats: bool = False
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    _aws: AwsSession | None = None
    _counter: ApiCallCounter | None = None

    @classmethod
    def of(cls, ctx: typer.Context) -> AppContext:
        app_context = ctx.find_object(cls)
        if app_context is None:  # pragma: no cover - the root callback always sets it
            raise RuntimeError("ebami's root callback did not run")
        return app_context

    def settings(self, **command_flags: Any) -> Settings:
        """Load the settings with the global flags and this command's flags on top."""
        return load_settings(self.config_file, self.environ, {**self.global_flags, **command_flags})

    def aws(self, settings: Settings) -> AwsSession:
        """The AWS session for this run (boto3 is imported here, not at start-up)."""
        if self._aws is None:
            from ebami.aws.session import ApiCallCounter, AwsSession

            self._counter = ApiCallCounter()
            self._aws = AwsSession(
                profile=settings.profile, region=settings.region, counter=self._counter
            )
            endpoint = self._aws.endpoint_url
            if endpoint and endpoint.rstrip("/") == self.environ.get("EBAMI_SANDBOX", "").rstrip(
                "/"
            ):
                self.terminal.warn(f"sandbox: talking to the ebami sandbox at {endpoint}, not AWS")
            elif endpoint:
                self.terminal.warn(f"talking to {endpoint}, not to AWS's endpoints")
        return self._aws

    def report_stats(self) -> None:
        """Print the API calls made, per operation (with --debug or EBAMI_STATS=1)."""
        if not self.stats:
            return
        counter = self._counter
        if counter is None or counter.total == 0:
            self.terminal.diagnostic("API calls: none")
            return
        lines = [f"API calls: {counter.total}", *(f"  {line}" for line in counter.lines())]
        self.terminal.diagnostic("\n".join(lines))
