"""The Typer application: global options and the list of commands."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from ebami import __version__
from ebami.cli import (
    apply,
    build,
    channels,
    check,
    events,
    iam,
    lookup,
    prune,
    render,
    sandbox,
    status,
    verify,
)
from ebami.cli.context import AppContext, OutputFormat
from ebami.cli.terminal import Terminal
from ebami.core.errors import ExitCode

app = typer.Typer(
    name="ebami",
    help="Bake, verify and roll out custom AMIs for Elastic Beanstalk's ECS-based platforms.",
    invoke_without_command=True,
    add_completion=False,
    # Locals of an AWS tool can hold credentials: never print them in a traceback.
    pretty_exceptions_show_locals=False,
    # Plain help: rich's help formatter imports markdown and traceback machinery that costs
    # more CPU than the rest of `--help` (benchmarks/startup.py).
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"ebami {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    profile: Annotated[
        str | None, typer.Option(help="AWS profile (default: AWS_PROFILE or the default one).")
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(
            help="AWS region (default: settings, then AWS_REGION, AWS_DEFAULT_REGION, the "
            "profile's region)."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            envvar="EBAMI_CONFIG",
            help="Settings file (default: ./ebami.toml when present).",
            dir_okay=False,
        ),
    ] = None,
    output: Annotated[
        OutputFormat,
        typer.Option("--output", "-o", envvar="EBAMI_OUTPUT", help="Result format on stdout."),
    ] = OutputFormat.TABLE,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More detail on stderr.")
    ] = 0,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", envvar="EBAMI_DEBUG", help="Tracebacks and API-call counts on stderr."
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Global options go before the command: `ebami --region eu-west-1 lookup`."""
    app_context = AppContext(
        terminal=Terminal(verbosity=verbose),
        output=output,
        config_file=config,
        global_flags={"profile": profile, "region": region},
        stats=debug or os.environ.get("EBAMI_STATS") == "1",
    )
    app_context.check_output()
    ctx.obj = app_context
    ctx.call_on_close(app_context.report_stats)
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(ExitCode.USAGE)


app.command("lookup")(lookup.lookup)
app.command("render")(render.render)
app.command("build")(build.build)
app.command("verify")(verify.verify)
app.command("apply")(apply.apply)
app.command("check")(check.check)
app.command("events")(events.events)
app.command("status")(status.status)
app.command("promote")(channels.promote)
app.command("revoke")(channels.revoke)
app.command("prune")(prune.prune)
app.add_typer(sandbox.app, name="sandbox")
app.add_typer(iam.app, name="iam")
