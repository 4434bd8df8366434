"""`ebami render`: the cloud-config user data, validated."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ebami.cli.context import AppContext
from ebami.cli.options import PlatformOption, ReleaseOption, comma_list
from ebami.cli.terminal import Terminal
from ebami.core.errors import CheckFailed
from ebami.core.files import require_folder, write_atomically

if TYPE_CHECKING:
    from ebami.image.userdata import UserData
from ebami.core.results import CheckResult, CheckStatus, failed


def render(
    ctx: typer.Context,
    platform: PlatformOption = None,
    release: ReleaseOption = None,
    drivers: Annotated[
        str | None,
        typer.Option(
            "--drivers",
            help="Comma-separated log drivers the platform's ECS agent accepts (default: "
            "json-file,syslog,awslogs,fluentd,none).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Write the user data to FILE instead of stdout.", dir_okay=False
        ),
    ] = None,
    check: Annotated[
        bool,
        typer.Option("--check", help="Also validate with `cloud-init schema` and show each check."),
    ] = False,
) -> None:
    """Render the cloud-config user data: lock-on-launch and the allowed log drivers."""
    from ebami.image.userdata import render_user_data

    app = AppContext.of(ctx)
    settings = app.settings(platform=platform, release=release, drivers=comma_list(drivers))
    spec = settings.resolved_platform()
    user_data = render_user_data(spec, settings.resolved_drivers(), settings.resolved_release(spec))
    results = _checked(app.terminal, user_data, schema=check)
    if out is not None:
        require_folder(out, "--out")
        write_atomically(out, user_data.text, option="--out")
        app.terminal.success(f"wrote {out} ({user_data.size} bytes, sha256 {user_data.sha256})")
    if app.json:
        app.terminal.out_json(_render_json(spec.alias, user_data, results, out))
    elif out is None:
        app.terminal.out_text(user_data.text)


def _checked(terminal: Terminal, user_data: UserData, *, schema: bool) -> list[CheckResult]:
    """The user data's checks (its structure; with `schema`, cloud-init's schema, each shown);
    CheckFailed when one failed."""
    from ebami.image.cloudinit import check_schema
    from ebami.image.userdata import check_structure

    results = check_structure(user_data.text)
    if schema:
        results.append(check_schema(user_data.text))
        _show_checks(terminal, results)
    failures = failed(results)
    if failures:
        raise CheckFailed(
            "the rendered user data failed: " + "; ".join(f"{r.name}: {r.detail}" for r in failures)
        )
    return results


def _render_json(
    platform: str, user_data: UserData, results: list[CheckResult], out: Path | None
) -> dict[str, object]:
    return {
        "platform": platform,
        "release": user_data.release,
        "drivers": list(user_data.drivers),
        "size": user_data.size,
        "sha256": user_data.sha256,
        "out": str(out) if out else None,
        "checks": [{"name": r.name, "status": r.status.value, "detail": r.detail} for r in results],
        "user_data": user_data.text,
    }


def _show_checks(terminal: Terminal, results: list[CheckResult]) -> None:
    for result in results:
        line = f"{result.status.value:<7}  {result.name}: {result.detail}"
        if result.status is CheckStatus.FAILED:
            terminal.error(line)
        elif result.status is CheckStatus.SKIPPED:
            terminal.warn(line)
        else:
            terminal.success(line)
