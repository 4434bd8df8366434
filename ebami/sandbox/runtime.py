"""The sandbox process's own state: where roots live, which faults are on, the shared lock.

A process serves at most one sandbox; the moto patches reach this state through `current()`.
Per-account, per-region state (platforms, environments, commands) lives on moto's backends.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

from ebami.sandbox.faults import Faults
from ebami.sandbox.rootfs import RootStore


@dataclass
class Runtime:
    roots: RootStore
    faults: Faults
    rng: random.Random = field(default_factory=lambda: random.Random(0))  # noqa: S311 - fault dice
    # Environment updates, SSM commands and image state change under this lock.
    lock: threading.RLock = field(default_factory=threading.RLock)


_current: Runtime | None = None


def install(runtime: Runtime) -> None:
    global _current
    _current = runtime


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("the ebami sandbox is not running in this process")
    return _current
