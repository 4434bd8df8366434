"""`ebami lookup`: the base AMI of an Elastic Beanstalk platform."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from ebami.cli.context import AppContext
from ebami.cli.options import PlatformOption, ReleaseOption


def lookup(
    ctx: typer.Context,
    platform: PlatformOption = None,
    release: ReleaseOption = None,
    platform_version: Annotated[
        str | None,
        typer.Option("--platform-version", help="Pin one platform version, e.g. 2.8.0."),
    ] = None,
) -> None:
    """Find the platform's current base AMI in the region."""
    app = AppContext.of(ctx)
    settings = app.settings(platform=platform, release=release)
    spec = settings.resolved_platform()
    wanted_release = settings.resolved_release(spec)

    from ebami.cli.factory import Factory
    from ebami.image.lookup import find_base_ami

    factory = Factory(app, settings)
    region = factory.session.region
    app.terminal.progress(f"looking up the base AMI of {spec.name} in {region}")
    base = find_base_ami(
        factory.eb,
        spec,
        region=region,
        release=wanted_release,
        platform_version=platform_version,
    )
    if app.json:
        app.terminal.out_json(asdict(base))
        return
    app.terminal.out_table(
        [
            ("Base AMI", base.image_id),
            ("Region", base.region),
            ("Platform", base.platform_name),
            ("Platform version", base.platform_version),
            ("Platform ARN", base.platform_arn),
            ("Branch", base.branch_name),
            ("OS", f"{base.os_name} {base.os_version}".strip()),
            ("Lifecycle", base.lifecycle_state),
        ]
    )
