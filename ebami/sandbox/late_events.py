"""Elastic Beanstalk events that become visible late, and so out of order.

On AWS an event can show in `DescribeEvents` only after newer ones were already returned: a
client that asks only for events after the newest it has seen misses it, one that re-reads a
look-back window gets it. The sandbox files some events late when `realism.late_events` is more
than 0: the event keeps its `EventDate` (when it happened) but stays invisible until up to that
many seconds of the sandbox's clock have passed.

Which events are late is decided by a hash of the account, the region and the event's place in
its sequence, so the same run of calls gives the same late events, and the throttling fault's
dice are left alone. Only events of a request (an update's, an abort's) are filed late; the
seeded world's events and health transitions are on time.
"""

from __future__ import annotations

import hashlib

from ebami.sandbox.environments import EbState, Event

# About one event in four of a request is late, by half to all of `late_events` seconds.
LATE_SHARE = 0.25


def delay(state: EbState, event: Event, late_events: float) -> float:
    """Seconds of the sandbox's clock the event stays invisible after it happened (0: none)."""
    if late_events <= 0 or not event.request_id:
        return 0.0
    key = f"{state.account_id}/{state.region}/{event.sequence}".encode()
    draw = int.from_bytes(hashlib.sha256(key).digest()[:8], "big") / 2**64
    if draw >= LATE_SHARE:
        return 0.0
    return late_events * (0.5 + 0.5 * draw / LATE_SHARE)


def visible(state: EbState, event: Event, now: float, late_events: float) -> bool:
    """Whether `DescribeEvents` shows the event at `now` on the sandbox's clock."""
    return now >= event.happened + delay(state, event, late_events)
