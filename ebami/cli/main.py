"""The entry point: the only place that maps errors to exit codes.

`main` runs the Typer app without click's standalone handling, so that every failure ends here:
ebami errors and bad usage as one line on stderr, Ctrl-C and SIGTERM as exit code 130,
anything else as an internal error. Tracebacks are printed only with --debug (or EBAMI_DEBUG).
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from types import FrameType
from typing import NoReturn

from ebami.cli.terminal import Terminal
from ebami.core.errors import AccessDenied, EbamiError, ExitCode, one_line
from ebami.core.interrupts import handling


def main(argv: Sequence[str] | None = None) -> int:
    terminal = Terminal()
    try:
        # SIGTERM stops every command the way Ctrl-C does, from the start: exit 130 with a
        # line, not the bare 143 of Python's default. Clean-ups (the executor's, Packer's
        # forwarding) set their own handlers inside this one and restore it.
        with handling({signal.SIGTERM: _interrupt}):
            return _main(argv, terminal)
    except KeyboardInterrupt:
        # One that came outside the command (while Typer loads, or as the run ends).
        terminal.error("interrupted")
        return ExitCode.CTRL_C


def _interrupt(signum: int, frame: FrameType | None) -> NoReturn:
    raise KeyboardInterrupt


def _main(argv: Sequence[str] | None, terminal: Terminal) -> int:
    # Imported once SIGTERM is handled: Typer and the commands are most of the start-up.
    import typer

    from ebami.cli.app import app

    args = list(sys.argv[1:] if argv is None else argv)
    debug = _wants_debug(args)
    _name_the_policy(args)
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="ebami", standalone_mode=False)
    except (KeyboardInterrupt, typer.Abort):
        terminal.error("interrupted")
        return ExitCode.CTRL_C
    except typer.TyperException as exc:
        # Typer's (vendored click) usage errors: a bad option, a bad value, a missing command.
        ctx = getattr(exc, "ctx", None)
        where = f"; see '{ctx.command_path} --help'" if ctx is not None else ""
        terminal.error(one_line(exc.format_message()).rstrip(".") + where)
        return ExitCode.USAGE
    except AccessDenied as exc:
        from ebami.iam.denied import denied_line

        if debug:
            terminal.diagnostic(traceback.format_exc())
        terminal.error(denied_line(exc))
        return exc.exit_code
    except EbamiError as exc:
        if debug:
            terminal.diagnostic(traceback.format_exc())
        terminal.error(exc.message)
        return exc.exit_code
    except Exception as exc:
        if debug:
            terminal.diagnostic(traceback.format_exc())
        terminal.error(
            f"internal error: {type(exc).__name__}: {one_line(str(exc))}; "
            "rerun with --debug for the traceback and report it"
        )
        return ExitCode.ERROR
    if result == ExitCode.CTRL_C:
        # Typer turns a KeyboardInterrupt inside a command into a silent exit code 130.
        terminal.error("interrupted")
    return result if isinstance(result, int) else ExitCode.OK


def run() -> None:
    """The `ebami` command (and `python -m ebami`): `main`, then exit with its code."""
    code = main()
    # The process ends now: skip the collector's last pass over what the command loaded
    # (botocore's service models: about 0.15 s at exit). Nothing there needs finalizing;
    # files and processes are closed.
    gc.freeze()
    sys.exit(code)


def _name_the_policy(args: list[str]) -> None:
    """Every refusal of this run names the policy of the command's job."""
    from ebami.core.errors import set_policy_command
    from ebami.iam.denied import job_of

    job = job_of(args)
    set_policy_command(f"ebami iam policy --job {job}" if job else "ebami iam policy")


def _wants_debug(args: list[str]) -> bool:
    before_separator = args[: args.index("--")] if "--" in args else args
    return "--debug" in before_separator or os.environ.get("EBAMI_DEBUG", "") not in ("", "0")
