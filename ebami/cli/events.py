"""`ebami events`: an environment's recent Elastic Beanstalk events, and following them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from ebami.cli.context import AppContext
from ebami.core.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Callable

    from ebami.aws.eb_values import Environment, Event
    from ebami.cli.factory import Factory

MAX_EVENTS = 1000
# A listing reads a page or two; throttling may stretch it, nothing should more.
LIST_SECONDS = 120.0


def events(
    ctx: typer.Context,
    env: Annotated[
        str,
        typer.Option(
            "--env", help="The environment (a configured [environments.NAME] or its name)."
        ),
    ],
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new events until Ctrl-C.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", help="How many recent events to show.")] = 20,
    request_id: Annotated[
        str | None,
        typer.Option("--request-id", help="Only the events of this request (an update's id)."),
    ] = None,
) -> None:
    """Print the environment's events, oldest first (`-f`: then follow, as `eb events -f`)."""
    from ebami.cli.factory import Factory

    app = AppContext.of(ctx)
    if not env.strip():
        raise InputError("--env '' is empty: give an environment name or [environments.NAME]")
    if not 1 <= limit <= MAX_EVENTS:
        raise InputError(f"--limit {limit} is out of range: give 1 to {MAX_EVENTS}")
    settings, application, name = app.settings().environment_target(env)
    factory = Factory(app, settings)
    with factory.bounded(LIST_SECONDS):
        environment = factory.eb.get_environment(name, application)
        recent = factory.eb.events(environment, request_id=request_id, limit=limit)
    if app.json and not follow:
        events_json = [event.to_json() for event in recent]
        app.terminal.out_json({"environment": environment.name, "events": events_json})
        return
    show = _shower(app, factory)
    for event in recent:
        show(event)
    if follow:
        _follow(app, factory, environment, recent, show, request_id)


def _shower(app: AppContext, factory: Factory) -> Callable[[Event], None]:
    """How an event is printed: its line, or one JSON object per line while following."""

    def show(event: Event) -> None:
        if app.json:
            app.terminal.out_text(json.dumps(event.to_json()) + "\n")
        else:
            factory.list_event(event)

    return show


def _follow(
    app: AppContext,
    factory: Factory,
    environment: Environment,
    recent: list[Event],
    show: Callable[[Event], None],
    request_id: str | None,
) -> None:
    """Every new event, until Ctrl-C: following is what was asked."""
    from ebami.apply.events import EventStream, keep_following

    stream = EventStream(factory.eb, environment, show, request_id=request_id)
    stream.skip(recent)
    app.terminal.progress(f"following {environment.name}'s events (Ctrl-C to stop)")
    keep_following(stream, bounded=factory.bounded, poll_seconds=LIST_SECONDS)
