"""How the sandbox extends moto: methods set on moto's own classes, recorded in one registry.

moto dispatches an API action to the method of its response class named after the action
(`ListPlatformVersions` -> `list_platform_versions`), so an action moto lacks is added by setting
that method on the class itself (a subclass would never be dispatched). Four kinds:

- fill: an action moto does not implement. A test fails once moto implements it, so that the
  patch gets dropped in favour of moto's own.
- replace: an action moto implements in a way ebami cannot rely on (the gap is recorded).
- hook: a wrapper around a moto method, to add sandbox behaviour (booting instances). A hook
  reads the wrapped call's arguments by name with `argument`, never by position.
- fix: a moto internal replaced because of a bug the sandbox runs into (the bug is recorded,
  and a test fails once moto no longer has it).

tests/functional/test_sandbox_moto_contract.py binds every moto signature the sandbox relies on.
"""

from __future__ import annotations

import functools
import inspect
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

T = TypeVar("T")

Kind = Literal["fill", "replace", "hook", "fix"]


@dataclass(frozen=True)
class Patch:
    kind: Kind
    owner: type
    name: str  # the API action (fill/replace) or the backend method (hook)
    function: Callable[..., Any]
    gap: str = ""

    @property
    def method(self) -> str:
        return method_name(self.name) if self.kind in ("fill", "replace") else self.name


PATCHES: list[Patch] = []
_lock = threading.Lock()
_installed = False


def method_name(action: str) -> str:
    """moto's method for an action: `DescribeEnvironmentHealth` -> `describe_environment_health`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", action).lower()


Register = Callable[[Callable[..., Any]], Callable[..., Any]]


def _register(kind: Kind, owner: type, name: str, gap: str = "") -> Register:
    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        PATCHES.append(Patch(kind, owner, name, function, gap))
        return function

    return register


def fill(owner: type, action: str) -> Register:
    return _register("fill", owner, action)


def replace(owner: type, action: str, gap: str) -> Register:
    return _register("replace", owner, action, gap)


def hook(owner: type, method: str) -> Register:
    """Register `function(original, self, *args, **kwargs)` to wrap `owner.method`."""
    return _register("hook", owner, method)


def fix(owner: type, attribute: str, gap: str) -> Register:
    """Register a static function that replaces `owner.attribute` (a moto staticmethod)."""
    return _register("fix", owner, attribute, gap)


def install() -> None:
    """Set every registered patch on its moto class (once per process)."""
    global _installed
    with _lock:
        if _installed:
            return
        for patch in PATCHES:
            setattr(patch.owner, patch.method, replacement(patch))
        _installed = True


def replacement(patch: Patch) -> Any:
    """What `install` sets as `patch.owner.<patch.method>`, given the attribute there now."""
    if patch.kind == "hook":
        current = getattr(patch.owner, patch.method, None)
        if current is None:
            raise RuntimeError(f"moto has no {patch.owner.__name__}.{patch.method} to hook")
        return _wrap(patch.function, current)
    if patch.kind == "fix":
        return staticmethod(patch.function)
    return patch.function


def _wrap(function: Callable[..., Any], original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        return function(original, self, *args, **kwargs)

    return wrapper


def kept_on(backend: Any, attribute: str, make: Callable[[], T]) -> T:
    """The sandbox's own state kept on a moto backend under `attribute`, made on first use."""
    found: T | None = getattr(backend, attribute, None)
    if found is None:
        found = make()
        setattr(backend, attribute, found)
    return found


def argument(original: Callable[..., Any], name: str, *args: Any, **kwargs: Any) -> Any:
    """The argument `name` of a call to `original`, whether it was passed by position or by
    keyword. A KeyError, never a silent None, when moto renames it."""
    return inspect.signature(original).bind(*args, **kwargs).arguments[name]
