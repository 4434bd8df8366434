"""The sandbox process's own state: where roots live, which faults are on, the shared lock, the
clock environment updates run on.

A process serves at most one sandbox; the moto patches reach this state through `current()`.
Per-account, per-region state (platforms, environments, commands) lives on moto's backends.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ebami.sandbox.faults import Faults
from ebami.sandbox.rootfs import RootStore

if TYPE_CHECKING:
    from ebami.sandbox.environments import EbState


@dataclass
class Runtime:
    roots: RootStore
    faults: Faults
    region: str  # the region the world is seeded in
    rng: random.Random = field(default_factory=lambda: random.Random(0))  # noqa: S311 - fault dice
    # Environment updates advance on this clock (seconds); tests pass their own.
    clock: Callable[[], float] = time.monotonic
    # Environment updates, SSM commands and image state change under this lock.
    lock: threading.RLock = field(default_factory=threading.RLock)
    # Every backend's Elastic Beanstalk state, so that any call can bring updates up to the clock.
    eb_states: list[EbState] = field(default_factory=list)


_current: Runtime | None = None


def install(runtime: Runtime) -> None:
    global _current
    _current = runtime


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("the ebami sandbox is not running in this process")
    return _current
