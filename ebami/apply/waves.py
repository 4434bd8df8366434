"""Which environments a fleet apply switches, in which waves: the first `canary` alone (wave 1,
the canary), then the rest `concurrency` at a time, in the order given (`--env`, then each
`--group`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ebami.config.settings import named_once
from ebami.core.errors import InputError

DEFAULT_CANARY = 1
DEFAULT_CONCURRENCY = 5
MAX_CONCURRENCY = 20


@dataclass(frozen=True)
class Wave:
    number: int
    names: tuple[str, ...]
    canary: bool = False

    def describe(self, waves: int) -> str:
        return f"wave {self.number} of {waves}" + (" (canary)" if self.canary else "")


def check_sizes(canary: int, concurrency: int) -> None:
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise InputError(
            f"--concurrency {concurrency} is out of range: give 1 to {MAX_CONCURRENCY}"
        )
    if not 0 <= canary <= concurrency:
        raise InputError(
            f"--canary {canary} is out of range: give 0 to the --concurrency ({concurrency}); "
            "the canary environments run at the same time"
        )


def plan_waves(names: Sequence[str], *, canary: int, concurrency: int) -> tuple[Wave, ...]:
    """The first `canary` names alone, then the rest `concurrency` at a time."""
    check_sizes(canary, concurrency)
    waves: list[Wave] = []
    if canary and names:
        waves.append(Wave(1, tuple(names[:canary]), canary=True))
    rest = names[canary:]
    for start in range(0, len(rest), concurrency):
        waves.append(Wave(len(waves) + 1, tuple(rest[start : start + concurrency])))
    return tuple(waves)


def expand_groups(
    envs: Sequence[str], chosen: Sequence[str], groups: Mapping[str, Sequence[str]]
) -> list[str]:
    """The environments of `--env` (in their order), then those of each `--group` (in the
    group's order); each environment may be named once (`named_once`, as check and status)."""
    named: list[tuple[str, str]] = [(name, "--env") for name in envs]
    for group in chosen:
        if group not in groups:
            known = ", ".join(sorted(groups)) if groups else "none: add [groups] to ebami.toml"
            raise InputError(f"--group {group!r} is not a group of the settings; known: {known}")
        named += [(name, f"group {group}") for name in groups[group]]
    return named_once(named)
