"""Placeholder, replaced by the module's owner."""

from __future__ import annotations

import typer


def prune(ctx: typer.Context) -> None:
    """Deregister old ebami AMIs (in progress)."""
    raise NotImplementedError
