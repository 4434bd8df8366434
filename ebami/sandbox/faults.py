"""Faults a sandbox can inject, set by `ebami sandbox start` flags or EBAMI_SANDBOX_* variables."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from ebami.core.errors import InputError
from ebami.sandbox.realism import Realism

ENV_THROTTLE = "EBAMI_SANDBOX_THROTTLE"
ENV_SSM_OFFLINE = "EBAMI_SANDBOX_SSM_OFFLINE"
ENV_FAIL_UPDATE_HEALTH = "EBAMI_SANDBOX_FAIL_UPDATE_HEALTH"
ENV_FAIL_UPDATE_HEALTH_ENVS = "EBAMI_SANDBOX_FAIL_UPDATE_HEALTH_ENVS"  # comma-separated names
ENV_AMI_PENDING_POLLS = "EBAMI_SANDBOX_AMI_PENDING_POLLS"
ENV_STALL_UPDATES = "EBAMI_SANDBOX_STALL_UPDATES"
ENV_UNRELATED_HEALTH = "EBAMI_SANDBOX_UNRELATED_HEALTH"  # comma-separated ENV=LEVEL items
# The enhanced health statuses an unrelated cause can hold an environment at.
UNRELATED_LEVELS = ("Warning", "Degraded")
_FRACTION = "a number: give a fraction such as 0.2"
_COUNT = "a whole number: give 0 or more"
T = TypeVar("T")


@dataclass(frozen=True)
class Faults:
    """What goes wrong on purpose.

    throttle: the fraction of API calls answered with a throttling error (0 to 1).
    ssm_offline: every instance's SSM agent has lost its connection.
    update_fails_health: environment updates end with health Red whatever the AMI.
    update_fails_health_envs: the same, for the environments of these names only (in any
        region: the fleet's names are unique across its two regions).
    ami_pending_polls: a new AMI stays `pending` for this many DescribeImages calls.
    update_stalls: an environment update that changes the AMI stays `Updating` after it
        starts and makes no progress until it is aborted.
    unrelated_health: (environment name, "Warning" or "Degraded") pairs: enhanced health holds
        the environment at that status for a cause no AMI makes (HTTP 5xx at its load
        balancer), before, during and after updates, while its instances are fine.
    realism: how AWS's slowness and inconsistency are modelled (`ebami.sandbox.realism`); not a
        fault, but carried with them to the server and the state file.
    """

    throttle: float = 0.0
    ssm_offline: bool = False
    update_fails_health: bool = False
    ami_pending_polls: int = 0
    update_stalls: bool = False
    update_fails_health_envs: tuple[str, ...] = ()
    realism: Realism = field(default_factory=Realism)
    unrelated_health: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # JSON gives lists; tuples keep the dataclass hashable and comparable.
        object.__setattr__(
            self, "update_fails_health_envs", tuple(dict.fromkeys(self.update_fails_health_envs))
        )
        held = {str(name): str(level) for name, level in self.unrelated_health}
        object.__setattr__(self, "unrelated_health", tuple(held.items()))
        for name, level in self.unrelated_health:
            if level not in UNRELATED_LEVELS:
                raise InputError(
                    f"unrelated health {name}={level} is not a level: give "
                    + " or ".join(UNRELATED_LEVELS)
                )
        if not 0.0 <= self.throttle < 1.0:
            raise InputError(
                f"throttle fraction {self.throttle} is out of range: give a number from 0 to "
                "less than 1, such as 0.2"
            )
        if self.ami_pending_polls < 0:
            raise InputError(
                f"AMI pending polls {self.ami_pending_polls} is negative: give 0 or more"
            )

    def fails_health(self, environment: str) -> bool:
        """Whether updates of the environment named `environment` end with health Red."""
        return self.update_fails_health or environment in self.update_fails_health_envs

    def unrelated_level(self, environment: str) -> str:
        """The status an unrelated cause holds the environment at ("" when none does)."""
        return dict(self.unrelated_health).get(environment, "")

    @property
    def active(self) -> list[str]:
        """One phrase per injected fault, for `ebami sandbox status`."""
        phrases = []
        if self.throttle:
            phrases.append(f"throttling on {self.throttle:.0%} of API calls")
        if self.ssm_offline:
            phrases.append("SSM agents offline")
        if self.update_fails_health:
            phrases.append("environment updates fail health")
        elif self.update_fails_health_envs:
            names = ", ".join(self.update_fails_health_envs)
            phrases.append(f"environment updates fail health in {names}")
        if self.ami_pending_polls:
            phrases.append(f"new AMIs stay pending for {self.ami_pending_polls} polls")
        if self.update_stalls:
            phrases.append("environment updates stall")
        for name, level in self.unrelated_health:
            phrases.append(f"{name} held at {level} by HTTP 5xx unrelated to its AMI")
        return phrases

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Faults:
        values = {key: data[key] for key in cls.__dataclass_fields__ if key in data}
        values["realism"] = Realism.from_json(data.get("realism", {}))
        return cls(**values)

    @classmethod
    def from_sources(
        cls,
        environ: Mapping[str, str],
        *,
        throttle: float | None = None,
        ssm_offline: bool | None = None,
        update_fails_health: bool | None = None,
        ami_pending_polls: int | None = None,
        update_stalls: bool | None = None,
        update_fails_health_envs: tuple[str, ...] | None = None,
        realism: str | None = None,
        unrelated_health: tuple[str, ...] | None = None,
    ) -> Faults:
        """Flags win over environment variables; unset means no fault."""
        if throttle is None:
            throttle = _number(environ, ENV_THROTTLE, float, _FRACTION) or 0.0
        if ssm_offline is None:
            ssm_offline = _flag(environ, ENV_SSM_OFFLINE)
        if update_fails_health is None:
            update_fails_health = _flag(environ, ENV_FAIL_UPDATE_HEALTH)
        if ami_pending_polls is None:
            ami_pending_polls = _number(environ, ENV_AMI_PENDING_POLLS, int, _COUNT) or 0
        if update_stalls is None:
            update_stalls = _flag(environ, ENV_STALL_UPDATES)
        if update_fails_health_envs is None:
            raw = environ.get(ENV_FAIL_UPDATE_HEALTH_ENVS, "")
            update_fails_health_envs = tuple(n.strip() for n in raw.split(",") if n.strip())
        given_as = "--unrelated-health"
        if unrelated_health is None:
            raw = environ.get(ENV_UNRELATED_HEALTH, "")
            unrelated_health = tuple(item.strip() for item in raw.split(",") if item.strip())
            given_as = ENV_UNRELATED_HEALTH
        return cls(
            throttle=throttle,
            ssm_offline=ssm_offline,
            update_fails_health=update_fails_health,
            ami_pending_polls=ami_pending_polls,
            update_stalls=update_stalls,
            update_fails_health_envs=update_fails_health_envs,
            realism=Realism.from_sources(environ, realism),
            unrelated_health=_held_once(
                [_held(item, given_as) for item in unrelated_health], given_as
            ),
        )


def _held_once(held: list[tuple[str, str]], given_as: str) -> tuple[tuple[str, str], ...]:
    """Each environment at one level: a name given twice is refused, not silently overridden."""
    names = [name for name, _ in held]
    for name in names:
        if names.count(name) > 1:
            raise InputError(f"{given_as} names {name} twice: give one level per environment")
    return tuple(held)


def _held(item: str, given_as: str) -> tuple[str, str]:
    """`ENV=LEVEL` as (environment name, level), the level spelled as AWS spells it."""
    name, equals, raw = item.partition("=")
    level = next((known for known in UNRELATED_LEVELS if known.lower() == raw.strip().lower()), "")
    if not equals or not name.strip() or not level:
        raise InputError(
            f"{given_as} {item!r} is not ENV=LEVEL: give an environment name, '=', and "
            + " or ".join(UNRELATED_LEVELS)
        )
    return name.strip(), level


def _number(
    environ: Mapping[str, str], name: str, convert: Callable[[str], T], expected: str
) -> T | None:
    raw = environ.get(name, "").strip()
    if not raw:
        return None
    try:
        return convert(raw)
    except ValueError:
        raise InputError(f"{name}={raw!r} is not {expected}") from None


def _flag(environ: Mapping[str, str], name: str) -> bool:
    raw = environ.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise InputError(f"{name}={raw!r} is not a switch: give 1 or 0")
