"""Reports of API calls that wait long: after `SLOW_CALL_AFTER_SECONDS` without an answer, a
line such as `still waiting for ec2 DescribeImages at https://... (5 s; read timeout 30 s)`,
from a watcher thread that runs only while a call is out."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

# A Describe call normally answers in well under a second; after this long, say what is awaited.
SLOW_CALL_AFTER_SECONDS = 5.0


@dataclass
class _Attempt:
    """One attempt of an API call, sent and not yet answered."""

    service: str
    operation: str
    endpoint: str
    number: int
    of: int | None
    read_timeout: float
    # After connect + read timeout botocore has given up on the attempt; an entry still here
    # then is stale (the call was interrupted) and must not be reported.
    gives_up_after: float
    sent_at: float
    next_report: float

    def line(self) -> str:
        waited = self.next_report - self.sent_at
        attempt = ""
        if self.number > 1:
            attempt = f"; attempt {self.number}" + (f" of {self.of}" if self.of else "")
        return (
            f"still waiting for {self.service} {self.operation} at {self.endpoint} "
            f"({waited:g} s; read timeout {self.read_timeout:g} s{attempt})"
        )


def _start_daemon(run: Callable[[], None]) -> None:
    threading.Thread(target=run, name="ebami-slow-calls", daemon=True).start()


class SlowCallWatch:
    """Says what ebami waits for when an API call has had no answer for `after` seconds.

    botocore emits `before-send` as each attempt of a call goes out (its request's context
    carries the attempt number and the client's configuration) and `response-received` when
    the attempt ends, answered or failed, before any retry. A background thread, alive only
    while an attempt is out, reports each attempt `after` seconds after it was sent, then every
    `after` seconds. `clock`, `sleep` and `start` (which runs the thread) are injectable.
    """

    def __init__(
        self,
        report: Callable[[str], None],
        *,
        after: float = SLOW_CALL_AFTER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        start: Callable[[Callable[[], None]], None] = _start_daemon,
    ) -> None:
        self._report = report
        self._after = after
        self._clock = clock
        self._sleep = sleep
        self._start = start
        self._lock = threading.Lock()
        # One attempt per thread: botocore sends a call's attempts one after another.
        self._waiting: dict[int, _Attempt] = {}
        self._running = False

    def watch(self, events: Any, service: str) -> None:
        """Follow the calls of one client (`client.meta.events`), shown as `service`."""
        events.register("before-send", partial(self.sent, service))
        events.register("response-received", self.answered)

    def sent(self, service: str, *, request: Any, event_name: str, **_: Any) -> None:
        context = request.context
        config = context["client_config"]
        now = self._clock()
        number = context.get("retries", {}).get("attempt", 1)
        # Inside a deadline, the attempt's own read timeout (DeadlineBounds) and no fixed
        # number of attempts: throttled calls are retried until the deadline.
        read_timeout = context.get("read_timeout") or config.read_timeout
        of = (config.retries or {}).get("total_max_attempts")
        attempt = _Attempt(
            service=service,
            operation=event_name.rsplit(".", 1)[-1],
            endpoint=_origin(request.url),
            number=number,
            of=of if of is not None and number <= of else None,
            read_timeout=read_timeout,
            gives_up_after=config.connect_timeout + read_timeout,
            sent_at=now,
            next_report=now + self._after,
        )
        with self._lock:
            self._waiting[threading.get_ident()] = attempt
            idle = not self._running
            self._running = True
        if idle:
            self._start(self._run)

    def answered(self, **_: Any) -> None:
        with self._lock:
            self._waiting.pop(threading.get_ident(), None)

    def poll(self) -> float | None:
        """Report the attempts due now; seconds until the next one is due, None when none is
        out (the thread then ends; the next attempt starts another)."""
        now = self._clock()
        due: list[str] = []
        with self._lock:
            for key, attempt in list(self._waiting.items()):
                if now - attempt.sent_at > attempt.gives_up_after:
                    del self._waiting[key]
                    continue
                if attempt.next_report <= now:
                    while attempt.next_report + self._after <= now:
                        attempt.next_report += self._after
                    due.append(attempt.line())
                    attempt.next_report += self._after
            if not self._waiting:
                self._running = False
                delay = None
            else:
                delay = max(0.0, min(a.next_report for a in self._waiting.values()) - now)
        for line in due:
            self._report(line)
        return delay

    def _run(self) -> None:
        while (delay := self.poll()) is not None:
            self._sleep(delay)


def _origin(url: str) -> str:
    """scheme://host[:port] of a request URL: its path and query say nothing useful."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
