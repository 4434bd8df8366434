"""`ebami lookup`: the base AMI of an Elastic Beanstalk platform."""

from __future__ import annotations

from typing import Annotated

import typer

from ebami.cli.context import AppContext
from ebami.cli.options import PlatformOption, ReleaseOption
from ebami.cli.present import present


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
    from ebami.cli.factory import Factory
    from ebami.cli.views import lookup_view

    app = AppContext.of(ctx)
    factory = Factory(app, app.settings(platform=platform, release=release))
    present(app, lookup_view(factory.lookup(platform_version)))
