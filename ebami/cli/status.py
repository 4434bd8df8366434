"""Placeholder, replaced by the module's owner."""

from __future__ import annotations

import typer


def status(ctx: typer.Context) -> None:
    """The estate (in progress)."""
    raise NotImplementedError
