"""Where each name of one `ebami apply` points, and its environment.

A name (`--env` or a group's) points at a `Target`: its region's services, its application and
the Elastic Beanstalk name. The `Finder` makes each target once, on the main thread (which
makes each region's clients), and finds the environments:

- **before wave 1**, every one of them, one `DescribeEnvironments` per region and application
  for up to 100 names; two names of one environment are refused;
- **at a wave's start**, the wave's environments again, one call per region and application
  however many threads ask (`OnceCache`), so that each is planned from what it is now.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ebami.apply.options import ApplyOptions
from ebami.apply.planner import ApplyPlan
from ebami.apply.waves import Wave
from ebami.aws.eb_values import Environment
from ebami.core.errors import EbamiError, InputError
from ebami.core.once import OnceCache
from ebami.core.waiting import Deadline, Sleep

if TYPE_CHECKING:
    from ebami.apply.run import ApplyRecord

# Planning reads a handful of things; throttling may stretch it, nothing should more.
PLAN_SECONDS = 300.0


class RegionServices(Protocol):
    """What one region offers an apply (the CLI's factory for that region is one). Threads
    share it: its session makes clients one at a time, and each thread's deadline is its own."""

    @property
    def region(self) -> str: ...
    def bounded(self, seconds: float) -> AbstractContextManager[Deadline]: ...
    def find_environments(
        self, names: Sequence[str], application: str | None
    ) -> dict[str, Environment | EbamiError]: ...
    def plan_apply(
        self,
        environment: Environment,
        options: ApplyOptions,
        *,
        wave: int = 0,
        earlier: ApplyPlan | None = None,
        baseline: bool = True,
    ) -> ApplyPlan: ...
    def run_apply(
        self, plan: ApplyPlan, saved: Callable[[ApplyRecord], None], *, sleep: Sleep
    ) -> ApplyRecord: ...


@dataclass(frozen=True)
class Target:
    """Where an --env or group name points: its region's services, its application (None:
    unknown) and the Elastic Beanstalk name of the environment."""

    services: RegionServices
    application: str | None
    environment: str


class Finder:
    """The targets and environments of a run's names (in the run's order)."""

    def __init__(self, names: Sequence[str], resolve: Callable[[str], Target]) -> None:
        self._names = list(names)
        self._resolve = resolve
        # Each name's target, made once: on the main thread, which finds every environment
        # first; the workers read it.
        self._targets: dict[str, Target] = {}
        # Each name's environment, once found.
        self.found: dict[str, Environment] = {}
        # The environments of a wave as its start found them: (wave, region's services,
        # application) -> each Elastic Beanstalk name's environment or error.
        self._described: OnceCache[
            tuple[int, int, str | None], dict[str, Environment | EbamiError]
        ] = OnceCache()

    def target(self, name: str) -> Target:
        if name not in self._targets:
            self._targets[name] = self._resolve(name)
        return self._targets[name]

    def eb_name(self, name: str) -> str:
        """The Elastic Beanstalk name of the environment `name` (--env or a group) stands for."""
        found = self.found.get(name)
        return found.name if found is not None else self.target(name).environment

    def find(self, *, keep_errors: bool) -> dict[str, EbamiError]:
        """Find every environment and refuse two names of one environment. An environment
        not found raises, or with `keep_errors` is returned as that name's error."""
        errors: dict[str, EbamiError] = {}
        by_environment: dict[tuple[str, str], str] = {}
        found = self._find_all()
        for name in self._names:
            target = self.target(name)
            environment = found[name]
            if isinstance(environment, EbamiError):
                if not keep_errors:
                    raise environment
                errors[name] = environment
                continue
            region = target.services.region
            key = (region, environment.environment_id)
            other = by_environment.get(key)
            if other is not None:
                raise InputError(
                    f"{other} and {name} are one environment ({environment.application}/"
                    f"{environment.name} in {region}): name each environment once"
                )
            by_environment[key] = name
            self.found[name] = environment
        return errors

    def _find_all(self) -> dict[str, Environment | EbamiError]:
        """Each name's environment (or why there is none), asked per region and application."""
        groups: dict[tuple[int, str | None], list[str]] = {}
        for name in self._names:
            target = self.target(name)
            groups.setdefault((id(target.services), target.application), []).append(name)
        found: dict[str, Environment | EbamiError] = {}
        for names in groups.values():
            first = self.target(names[0])
            with first.services.bounded(PLAN_SECONDS):
                described = first.services.find_environments(
                    [self.target(name).environment for name in names], first.application
                )
            for name in names:
                found[name] = described[self.target(name).environment]
        return found

    def at_start(self, name: str, wave: Wave) -> Environment:
        """`name`'s environment as its wave's start describes it, with the wave's other
        environments of its region and application (one call for them all)."""
        target = self.target(name)
        together = [
            self.target(other)
            for other in wave.names
            if self.target(other).services is target.services
            and self.target(other).application == target.application
        ]
        key = (wave.number, id(target.services), target.application)
        described = self._described.get(
            key,
            lambda: target.services.find_environments(
                [other.environment for other in together], target.application
            ),
        )
        outcome = described[target.environment]
        if isinstance(outcome, EbamiError):
            raise outcome
        return outcome
