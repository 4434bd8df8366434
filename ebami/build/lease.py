"""The build lease: one bake of a bake key at a time.

The lease is the SSM parameter `/ebami/leases/<bake key>`, created only where none exists
(PutParameter without Overwrite: of two runs at once, exactly one creates it). Its value names
the run holding it, its host, since when and until when. The run deletes it when it ends,
whatever the outcome, and only while it is still its own; a run that was killed (SIGKILL, a
lost machine) cannot, so a lease also expires: once past its expiry, another run takes it over.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol

from ebami.core.errors import EbamiError
from ebami.core.reporting import Reporter
from ebami.core.times import utc_timestamp
from ebami.image import tags

PREFIX = "/ebami/leases/"
# Longer than any bake (10 to 20 minutes; copies to other regions add some): a live run never
# loses its lease, and a killed run's lease blocks its bake key for at most this long.
LEASE_SECONDS = 2 * 3600.0
_DESCRIPTION = "ebami build lease: a build of this bake key is running"
_EXPIRED = datetime.min.replace(tzinfo=timezone.utc)


class BuildInProgress(EbamiError):
    """Another run holds the lease of this bake key, and this one does not wait for it."""


def lease_name(bake_key: str) -> str:
    return PREFIX + bake_key


@dataclass(frozen=True)
class Lease:
    name: str
    run_id: str
    host: str
    since: datetime
    expires: datetime

    def value(self) -> str:
        return json.dumps(
            {
                "run": self.run_id,
                "host": self.host,
                "since": utc_timestamp(self.since),
                "expires": utc_timestamp(self.expires),
            },
            sort_keys=True,
        )

    @classmethod
    def read(cls, name: str, text: str) -> Lease:
        """The lease a parameter's value describes; one that cannot be read counts as expired
        (ebami writes every lease, so it can only be a leftover of something else)."""
        try:
            data = json.loads(text)
            return cls(
                name,
                str(data["run"]),
                str(data.get("host", "")),
                datetime.fromisoformat(str(data["since"]).replace("Z", "+00:00")),
                datetime.fromisoformat(str(data["expires"]).replace("Z", "+00:00")),
            )
        except (ValueError, KeyError, TypeError):
            return cls(name, "(unreadable)", "", _EXPIRED, _EXPIRED)

    def expired(self, now: datetime) -> bool:
        return now >= self.expires

    def holder(self) -> str:
        """`run 3f2a… on host ci-7, since 2026-11-21T09:30:00Z`"""
        where = f" on host {self.host}" if self.host else ""
        return f"run {self.run_id}{where}, since {utc_timestamp(self.since)}"


class LeaseSsm(Protocol):
    """The SSM calls a lease makes (`ebami.aws.ssm.Ssm`)."""

    def create_parameter(
        self, name: str, value: str, *, description: str, tags: Mapping[str, str]
    ) -> bool: ...

    def parameter_value(self, name: str) -> str | None: ...

    def delete_parameter(self, name: str) -> bool: ...


class Leases:
    def __init__(
        self,
        ssm: LeaseSsm,
        *,
        host: str,
        now: Callable[[], datetime],
        reporter: Reporter,
    ) -> None:
        self._ssm = ssm
        self._host = host
        self._now = now
        self._reporter = reporter

    def take(self, name: str, run_id: str, seconds: float) -> Lease | None:
        """Try to take the lease `name` for `seconds`: the lease in force afterwards (this
        run's when taken, else the holder's), or None when it changed hands while this run
        looked (ask again)."""
        now = self._now()
        wanted = Lease(name, run_id, self._host, now, now + timedelta(seconds=seconds))
        if self._create(wanted):
            return wanted
        text = self._ssm.parameter_value(name)
        if text is None:
            return None
        held = Lease.read(name, text)
        if not held.expired(now):
            return held
        # SSM has no compare-and-swap: delete the expired lease only if it is still the very
        # value read, then create this run's like any other taker. Two runs taking over one
        # expired lease within the same round trip could both succeed; expiry is the fallback
        # for a killed run, the create above is the lock.
        if self._ssm.parameter_value(name) != text:
            return None
        self._ssm.delete_parameter(name)
        self._reporter.warn(
            f"took over the build lease {name} of {held.holder()}: it expired at "
            f"{utc_timestamp(held.expires)} (that run was killed, or ran longer than its lease)"
        )
        return wanted if self._create(wanted) else None

    def release(self, lease: Lease) -> None:
        """Delete the lease, if it is still this run's."""
        text = self._ssm.parameter_value(lease.name)
        if text is None:
            return
        if text != lease.value():
            self._reporter.warn(
                f"the build lease {lease.name} is now held by "
                f"{Lease.read(lease.name, text).holder()} (this run's expired at "
                f"{utc_timestamp(lease.expires)}): left to it"
            )
            return
        self._ssm.delete_parameter(lease.name)

    def _create(self, lease: Lease) -> bool:
        return self._ssm.create_parameter(
            lease.name,
            lease.value(),
            description=_DESCRIPTION,
            tags={tags.MANAGED: "true", tags.BUILD_RUN: lease.run_id},
        )
