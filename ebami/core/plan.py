"""The plan/execute core of every command that changes something (build, verify, apply...).

A planner makes only Describe/List/Get calls and returns a `Plan`: what it read (`facts`), a
frozen list of `Instruction`s, each with the progress message printed as it starts, and the
clean-up instructions that run whatever happens. `Executor` performs a plan by calling, for
each instruction, the method of the command's actions object named by the instruction: `Step`
names the kinds of instruction of one command (`BuildStep`, `ApplyStep`...), each member's
value the method of that command's actions class that performs it. `--dry-run` shows the very
plan the real run would execute (`plan_rows` as a table, `Plan.to_json` as JSON) and executes
nothing. An instruction's parameter may be a `Ref` to the output of an earlier one (the
instance a launch made, the AMI Packer built), resolved when the plan runs.

The clean-up has a deadline of its own (`CLEANUP_SECONDS`), not the run's: a run that ended at
its deadline must still remove what it made. A clean-up step that cannot remove something
raises `LeftBehind` naming it and the command that removes it; the executor records it in
`left_behind`, warns, and the run keeps its own outcome.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from ebami.core.errors import LeftBehind, Leftover
from ebami.core.interrupts import stoppable
from ebami.core.reporting import Reporter
from ebami.core.waiting import Clock, Deadline, Sleep

# How long a clean-up may keep trying (throttled calls, slow answers) before it names what it
# could not remove. Held signals wait for it: a second Ctrl-C does not cut it short.
CLEANUP_SECONDS = 120.0
# What makes the AWS calls inside a block fit a deadline (`AwsSession.bounded`).
Bounds = Callable[[Deadline], AbstractContextManager[object]]


def unbounded(deadline: Deadline) -> AbstractContextManager[object]:
    """Bounds that bound nothing (no AWS session: a test's fakes)."""
    return nullcontext()


class Step(str, Enum):
    """The kinds of instruction of one command's plans. Each member's value names the method of
    the command's actions class that performs it (`Executor` calls the method of that name on
    the actions it was given); a unit test checks that every member has its method."""

    def __str__(self) -> str:
        return str(self.value)


@dataclass(frozen=True)
class Ref:
    """The output of an earlier instruction (its `output` name), resolved at execution."""

    name: str


@dataclass(frozen=True)
class Instruction:
    # A member of the command's `Step`: what is done, by the actions' method of that name.
    action: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)
    # The name later instructions use to refer to what this one returns.
    output: str | None = None

    def to_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "action": self.action,
            "message": self.message,
            "params": jsonable(self.params),
        }
        if self.output:
            shown["output"] = self.output
        return shown


@dataclass(frozen=True)
class Plan:
    command: str
    facts: Mapping[str, Any] = field(default_factory=dict)
    instructions: tuple[Instruction, ...] = ()
    # Run after the instructions whatever happens (failure, Ctrl-C, SIGTERM), signals held.
    cleanup: tuple[Instruction, ...] = ()
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "facts": jsonable(self.facts),
            "instructions": [item.to_json() for item in self.instructions],
            "cleanup": [item.to_json() for item in self.cleanup],
            "notes": list(self.notes),
        }


class Executor:
    """Performs a plan's instructions in order, then its clean-up whatever happened.

    Ctrl-C and SIGTERM stop the instructions; during the clean-up both are held back and
    re-raised (as KeyboardInterrupt) once it is done. The clean-up runs within its own
    deadline (`cleanup_seconds` on `clock`), and `bounds` makes the AWS calls it makes fit that
    deadline (they keep trying through throttling until it passes). Every clean-up instruction
    runs even when one before it fails. What a clean-up step could not remove (`LeftBehind`)
    is collected in `left_behind` and warned about, never raised: the run's own outcome stands,
    and the caller decides how to end (`LeftBehind` with the outcome when the run succeeded).
    Any other clean-up failure is raised only when nothing else went wrong (else it is
    reported, and the first failure stands). `executed` lists what ran, in order.
    """

    def __init__(
        self,
        actions: object,
        reporter: Reporter,
        *,
        bounds: Bounds = unbounded,
        cleanup_seconds: float = CLEANUP_SECONDS,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        # `actions` has one method per instruction action, named alike.
        self._actions = actions
        self._reporter = reporter
        self._bounds = bounds
        self._cleanup_seconds = cleanup_seconds
        self._clock = clock
        self._sleep = sleep
        self.executed: list[Instruction] = []
        self.outputs: dict[str, Any] = {}
        self.left_behind: list[Leftover] = []

    def execute(self, plan: Plan) -> dict[str, Any]:
        with stoppable() as stop:
            failed = True
            try:
                for instruction in plan.instructions:
                    self._perform(instruction, cleanup=False)
                failed = False
            finally:
                if plan.cleanup:
                    with stop.holding():
                        self._clean_up(plan.cleanup, raise_first=not failed)
        return self.outputs

    def _clean_up(self, instructions: tuple[Instruction, ...], *, raise_first: bool) -> None:
        deadline = Deadline(self._cleanup_seconds, clock=self._clock, sleep=self._sleep)
        with self._bounds(deadline):
            self._clean_up_within(instructions, raise_first=raise_first)

    def _clean_up_within(self, instructions: tuple[Instruction, ...], *, raise_first: bool) -> None:
        errors: list[Exception] = []
        for instruction in instructions:
            try:
                self._perform(instruction, cleanup=True)
            except LeftBehind as exc:  # named with its removal command; the run's outcome stands
                for leftover in exc.leftovers:
                    self.left_behind.append(leftover)
                    self._reporter.warn(f"left behind: {leftover}")
            except Exception as exc:  # the other clean-ups still run
                errors.append(exc)
                self._reporter.warn(f"clean-up step failed: {instruction.message}: {exc}")
        if errors and raise_first:
            raise errors[0]

    def _perform(self, instruction: Instruction, *, cleanup: bool) -> None:
        # A clean-up instruction may refer to what never came to be (the launch was cut
        # short): it gets None and decides what that means.
        params = {
            name: self._resolve(value, missing_ok=cleanup)
            for name, value in instruction.params.items()
        }
        self._reporter.progress(instruction.message)
        self.executed.append(instruction)
        method = getattr(self._actions, str(instruction.action), None)
        if not callable(method):
            raise TypeError(f"{type(self._actions).__name__} cannot perform {instruction.action}")
        result = method(**params)
        if instruction.output:
            self.outputs[instruction.output] = result

    def _resolve(self, value: Any, *, missing_ok: bool) -> Any:
        if not isinstance(value, Ref):
            return value
        if missing_ok:
            return self.outputs.get(value.name)
        return self.outputs[value.name]


def jsonable(value: Any) -> Any:
    """A plan's values as JSON: dataclasses by field (or their `to_json`), refs by name."""
    if isinstance(value, Ref):
        return {"output_of": value.name}
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return to_json()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return [jsonable(item) for item in items]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    return value


def plan_rows(plan: Plan) -> list[tuple[str, str]]:
    """The plan as two-column rows: facts, each instruction and its parameters, clean-up."""
    rows = [(key, _cell(value)) for key, value in jsonable(plan.facts).items()]
    for number, instruction in enumerate(plan.instructions, 1):
        rows += _instruction_rows(f"{number}.", instruction)
    for instruction in plan.cleanup:
        rows += _instruction_rows("always:", instruction)
    if not plan.instructions:
        rows.append(("Nothing to do", "no instruction changes anything"))
    rows += [("Note", note) for note in plan.notes]
    return rows


def _instruction_rows(label: str, instruction: Instruction) -> list[tuple[str, str]]:
    rows = [(label, instruction.message)]
    for name, value in instruction.params.items():
        if isinstance(value, Ref):
            rows.append((f"   {name}", f"{value.name} (from an earlier step)"))
            continue
        shown = jsonable(value)
        if isinstance(shown, Mapping) and shown:
            # One row per entry (Packer's variables, the tags): a table, not one long cell.
            rows += [(f"   {name}.{key}", _cell(item)) for key, item in shown.items()]
        else:
            rows.append((f"   {name}", _cell(shown)))
    return rows


# Long values (user data, Packer variables) are shortened in the table; JSON shows them whole.
_CELL_LIMIT = 160


def _cell(value: Any) -> str:
    if isinstance(value, str):
        text = value if "\n" not in value else json.dumps(value)
    elif (
        isinstance(value, Mapping)
        and value
        and all(
            isinstance(item, (str, int, float, bool)) or item is None for item in value.values()
        )
    ):
        text = ", ".join(f"{key}={_cell(item)}" for key, item in value.items())
    elif value is None:
        text = "-"
    else:
        text = json.dumps(value)
    return text if len(text) <= _CELL_LIMIT else text[: _CELL_LIMIT - 1] + "…"
