"""Placeholder, replaced by the module's owner."""

from __future__ import annotations

import typer


def promote(ctx: typer.Context) -> None:
    """Promote an AMI to a channel (in progress)."""
    raise NotImplementedError


def revoke(ctx: typer.Context) -> None:
    """Revoke an AMI (in progress)."""
    raise NotImplementedError
