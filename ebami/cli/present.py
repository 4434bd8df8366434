"""The one presenter: a command's result as text or JSON on stdout, GitHub's step outputs, job
summary and annotations with `-o github`, and its closing line on stderr.

A command body makes a `View` of its result (`ebami.cli.views`, `ebami.cli.lifecycle_views`)
and hands it to `present`. Only what is not one result writes on its own: `render`'s user data,
the events `ebami events` lists or follows as they come, the sandbox's stop and release lines.
Results go to stdout, the closing line and warnings to stderr. An error the command ends with (a
failed check, something left behind, `--exit-code`'s verdict) is raised after the result is
shown: the result still reaches the reader, and the exit code is the error's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NoReturn

from ebami.core.errors import EbamiError

if TYPE_CHECKING:
    from ebami.cli.context import AppContext

Level = Literal["notice", "warning", "error"]


@dataclass(frozen=True)
class Annotation:
    level: Level
    message: str
    title: str = ""


@dataclass(frozen=True)
class View:
    """What a command shows of its result."""

    # What `-o json` prints.
    json: Any
    # What the table and GitHub formats print: text as it is, or two-column rows (a table), or
    # several tables (the plans of a dry run).
    text: str | Sequence[tuple[str, str]] = ""
    tables: Sequence[Sequence[tuple[str, str]]] = ()
    # `-o github`: step outputs, a Markdown job summary, annotations.
    outputs: Mapping[str, str] = field(default_factory=dict)
    summary: str = ""
    annotations: Sequence[Annotation] = ()
    # Warnings on stderr, after the result, before the closing line; `notes`: warnings after it.
    warnings: Sequence[str] = ()
    notes: Sequence[str] = ()
    # The closing line on stderr (None: none), and whether `-o json` prints it too.
    success: str | Sequence[str] | None = None
    success_in_json: bool = True
    # Raised once the result is shown, instead of the closing line (or after it: a change that
    # was made, and needs a person all the same).
    error: EbamiError | None = None
    error_after_success: bool = False


def present(app: AppContext, view: View) -> None:
    """Show `view` in the format asked for; then raise its error, or print its closing line."""
    terminal = app.terminal
    if app.json:
        terminal.out_json(view.json)
    elif isinstance(view.text, str):
        if view.text:
            terminal.out_text(view.text)
        for rows in view.tables:
            terminal.out_table(rows)
    else:
        terminal.out_table(view.text)
    github = app.github
    if github is not None:
        if view.outputs:
            github.set(view.outputs)
        if view.summary:
            github.summary(view.summary)
        for note in view.annotations:
            github.annotate(note.level, note.message, title=note.title)
    for warning in view.warnings:
        terminal.warn(warning)
    if view.error is not None and not view.error_after_success:
        raise view.error
    if view.success is not None and (view.success_in_json or not app.json):
        for line in [view.success] if isinstance(view.success, str) else view.success:
            terminal.success(line)
    for late in view.notes:
        terminal.warn(late)
    if view.error is not None:
        raise view.error


def fail(app: AppContext, view: View) -> NoReturn:
    """Show `view` (the results so far), then raise its error, which it must have."""
    error = view.error
    if error is None:  # pragma: no cover - a caller's mistake
        raise TypeError("fail() needs a view with an error")
    present(app, view)
    raise error
