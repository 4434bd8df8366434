"""The sandbox process's own state: where roots live, which faults are on, the shared lock, the
clock environment updates run on, and every backend's Elastic Beanstalk state.

A process serves at most one sandbox; the moto patches reach this state through `current()`.
Per-account, per-region state (platforms, environments, commands) lives on moto's backends;
`state_of` attaches the sandbox's Elastic Beanstalk state to a backend and keeps it in reach of
the clock.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ebami.sandbox.environments import EbState
from ebami.sandbox.faults import Faults
from ebami.sandbox.rootfs import RootStore


@dataclass
class Runtime:
    roots: RootStore
    faults: Faults
    region: str  # the region the world is seeded in
    rng: random.Random = field(default_factory=lambda: random.Random(0))  # noqa: S311 - fault dice
    # Environment updates advance on this clock (seconds); tests pass their own.
    clock: Callable[[], float] = time.monotonic
    # The time of day AWS's dated facts are read on (a cooldown's end, an AMI's last launch).
    now: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))
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


def state_of(backend: Any) -> EbState:
    """The sandbox state attached to a moto EB backend (made on first use, and kept in the
    running sandbox's `eb_states`)."""
    state: EbState | None = getattr(backend, "ebami", None)
    if state is None:
        state = EbState(backend.account_id, backend.region_name, clock=current().clock)
        backend.ebami = state
        current().eb_states.append(state)
    return state
