"""The one place where AWS sessions and clients are made.

Profile and region come from ebami's settings, the region else from `AWS_REGION` (as the AWS
SDKs read it; botocore itself reads only `AWS_DEFAULT_REGION`, then the profile);
`AWS_ENDPOINT_URL` (and the per-service variants) are honoured by botocore itself, after ebami
has checked that they are URLs. Every client gets botocore's standard retry mode unless the
user chose a mode, the timeouts of the settings, the user agent `ebami/<version>`, and
optionally a report of calls that wait long.

Calls made inside `AwsSession.bounded(deadline)` fit the deadline (`DeadlineBounds`).
"""

from __future__ import annotations

import os
import random
import shlex
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import botocore.session
import msgspec
from botocore import utils as botocore_utils
from botocore.config import Config
from botocore.exceptions import BotoCoreError
from botocore.loaders import JSONFileLoader

from ebami import __version__
from ebami.aws.errors import aws_errors
from ebami.errors import InputError
from ebami.settings import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT
from ebami.waiting import Deadline

# Standard mode's own default, written out: with it the longest a silent endpoint can hold one
# call is known, 3 x (connect + read timeout) plus under 3 s of backoff.
MAX_ATTEMPTS = 3
# A Describe call normally answers in well under a second; after this long, say what is awaited.
SLOW_CALL_AFTER_SECONDS = 5.0
GLOBAL_ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL"
# The AWS SDKs' region variable, read before botocore's own AWS_DEFAULT_REGION.
REGION_VARIABLE = "AWS_REGION"
# Inside a deadline, an attempt waits for an answer at least this long, even when less time is
# left: a call made at the deadline (a diagnosis, a clean-up) still gets one real chance.
MIN_READ_TIMEOUT = 1.0
# Pauses between attempts of a throttled call inside a deadline: doubling from the first,
# up to the cap, each with jitter (a random part of its second half), as AWS advises for
# throttling, so that runs throttled together do not retry together.
RETRY_FIRST = 0.25
RETRY_CAP = 5.0
# The error codes AWS answers when it throttles a caller (botocore's standard mode's list)
# and those of a failure on AWS's side that a later attempt may not meet.
THROTTLING_CODES = frozenset(
    {
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException",
        "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
        "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)  # fmt: skip
SERVER_ERROR_CODES = frozenset(
    {"InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable"}
)
RETRY_STATUS_CODES = frozenset({429, 500, 502, 503, 504})


class ApiCallCounter:
    """Counts API calls per service and operation (one per call, retries not counted)."""

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()

    def __call__(self, **event: Any) -> None:
        model = event["model"]
        self.calls[(model.service_model.service_name, model.name)] += 1

    def lines(self) -> list[str]:
        return [
            f"{service}.{operation}: {count}"
            for (service, operation), count in sorted(self.calls.items())
        ]

    @property
    def total(self) -> int:
        return sum(self.calls.values())


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


class ModelFileLoader(JSONFileLoader):
    """botocore's model files, decoded with msgspec instead of `json` into OrderedDicts.

    Every command that talks to AWS loads the EC2 model (a 2 MB JSON file): 37 ms through
    botocore's own loader, 11 ms through msgspec (measured on this machine). botocore
    relies on nothing of OrderedDict but the order, which dicts keep.
    """

    def _load_file(self, full_path: str, open_method: Callable[..., Any]) -> Any:
        if not os.path.isfile(full_path):
            return None
        with open_method(full_path, "rb") as handle:
            return msgspec.json.decode(handle.read())


class DeadlineBounds:
    """Makes the calls of a session's clients fit the deadline in force (`bound`), if any.

    Through botocore's own events, so the call stays one botocore call (one idempotency
    token, one retry loop):

    - `before-send`, each attempt: the attempt's read timeout is the setting, or the time left
      when less (at least `MIN_READ_TIMEOUT`), through the request context's `read_timeout`
      (botocore 1.43.68 and newer send it as the attempt's timeout).
    - `needs-retry`, registered before botocore's retry handler: an attempt that was
      throttled, or failed on AWS's side (5xx), is tried again after a growing pause on the
      deadline's clock, as long as the deadline leaves time for it; once it has passed, no
      attempt is made whatever botocore's handler would do. Other outcomes (timeouts and lost
      connections included, which botocore retries its usual number of times) are left to
      botocore.
    """

    def __init__(
        self,
        read_timeout: float,
        *,
        report: Callable[[str], None] | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._read_timeout = read_timeout
        self._report = report
        self._jitter = jitter
        self._deadlines: list[Deadline] = []

    @property
    def deadline(self) -> Deadline | None:
        return self._deadlines[-1] if self._deadlines else None

    @contextmanager
    def bound(self, deadline: Deadline) -> Iterator[Deadline]:
        """Within the block, calls fit `deadline` (an inner one replaces it until it ends)."""
        self._deadlines.append(deadline)
        try:
            yield deadline
        finally:
            self._deadlines.pop()

    def install(self, events: Any, service_id: str) -> None:
        """Apply to one client (`client.meta.events`, its hyphenized service id)."""
        events.register_first(f"before-send.{service_id}", self.before_send)
        # botocore calls the handlers of the most specific event first, in order of
        # registration; `register_first` puts this one before its own retry handler there.
        events.register_first(f"needs-retry.{service_id}", self.needs_retry)

    def read_timeout(self, remaining: float) -> float:
        return min(self._read_timeout, max(remaining, MIN_READ_TIMEOUT))

    def before_send(self, *, request: Any, **_: Any) -> None:
        deadline = self.deadline
        if deadline is not None:
            request.context["read_timeout"] = self.read_timeout(deadline.remaining)

    def needs_retry(
        self,
        *,
        attempts: int,
        response: Any = None,
        caught_exception: BaseException | None = None,
        operation: Any = None,
        **_: Any,
    ) -> float | bool | None:
        """0 (retry now: the pause is over) or False (no more attempts); None leaves the
        decision to botocore."""
        deadline = self.deadline
        if deadline is None:
            return None
        failed = caught_exception is not None or _error_code(response) is not None
        if not failed:
            return None
        if deadline.expired:
            return False
        if not _retryable_inside_deadline(response):
            return None
        pause = self.pause(attempts)
        if pause >= deadline.remaining:
            return False
        if self._report is not None and attempts >= MAX_ATTEMPTS:
            # Past the attempts botocore alone would make: say why the call takes long.
            self._report(
                f"{operation.service_model.service_name} {operation.name}: "
                f"{_error_code(response)} on {attempts} attempts; trying again in "
                f"{pause:.1f} s ({deadline.progress()})"
            )
        deadline.pause(pause)
        return 0

    def pause(self, attempts: int) -> float:
        """The pause after the `attempts`-th attempt: doubling, capped, with jitter."""
        ceiling = min(RETRY_CAP, RETRY_FIRST * 2.0 ** min(attempts - 1, 32))
        return ceiling / 2 + self._jitter() * ceiling / 2


def _error_code(response: Any) -> str | None:
    if response is None:
        return None
    http_response, parsed = response
    code = (parsed or {}).get("Error", {}).get("Code")
    if code:
        return str(code)
    return str(http_response.status_code) if http_response.status_code >= 400 else None


def _retryable_inside_deadline(response: Any) -> bool:
    """Throttled, or failed on AWS's side: another attempt may well succeed."""
    if response is None:
        return False
    code = _error_code(response)
    return (
        code in THROTTLING_CODES
        or code in SERVER_ERROR_CODES
        or response[0].status_code in RETRY_STATUS_CODES
    )


@dataclass(frozen=True)
class AwsCli:
    """AWS CLI commands for the session's profile and region: what a message tells the user to
    run (to remove what ebami could not)."""

    region: str
    profile: str | None = None

    def command(self, service: str, operation: str, *args: str) -> str:
        words = ["aws", service, operation, *args, "--region", self.region]
        if self.profile:
            words += ["--profile", self.profile]
        return shlex.join(words)


class AwsSession:
    """Makes (and caches) botocore clients configured the ebami way."""

    def __init__(
        self,
        *,
        profile: str | None = None,
        region: str | None = None,
        counter: ApiCallCounter | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        on_slow_call: Callable[[str], None] | None = None,
        slow_call_after: float = SLOW_CALL_AFTER_SECONDS,
    ) -> None:
        """`on_slow_call` receives, every `slow_call_after` seconds an API call goes without an
        answer, a line such as `still waiting for ec2 DescribeImages at https://... (5 s; read
        timeout 30 s)`."""
        with aws_errors("opening the AWS session"):
            # botocore's session, not boto3's: ebami needs clients only, and boto3's import
            # (s3transfer, resources) costs start-up time every command would pay.
            self._session = botocore.session.Session(profile=profile)
            self._session.get_component("data_loader").file_loader = ModelFileLoader()
            region = region or os.environ.get(REGION_VARIABLE) or None
            if region:
                self._session.set_config_variable("region", region)
            # Read the profile now, as boto3 does: an unknown one is an error here, not later.
            self._session.get_scoped_config()
        self.counter = counter
        if counter is not None:
            # before-parameter-build fires once per API call, before any handler (a retry, a
            # stub, a cache) can answer it.
            self._session.register("before-parameter-build", counter)
        self._profile = profile
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._watch = (
            SlowCallWatch(on_slow_call, after=slow_call_after) if on_slow_call is not None else None
        )
        self._bounds = DeadlineBounds(read_timeout, report=on_slow_call)
        self._clients: dict[str, Any] = {}
        self._check_endpoint(GLOBAL_ENDPOINT_VARIABLE)

    def bounded(self, deadline: Deadline) -> AbstractContextManager[Deadline]:
        """Within the block, every call of this session's clients fits `deadline`: each
        attempt's read timeout fits the time left, throttled calls are retried until it passes,
        and no attempt starts after it."""
        return self._bounds.bound(deadline)

    @property
    def cli(self) -> AwsCli:
        """AWS CLI commands for this session's profile and region."""
        return AwsCli(self.region, self._profile)

    @property
    def region(self) -> str:
        with aws_errors("reading the AWS region"):
            region: str | None = self._session.get_config_variable("region")
        if not region:
            raise InputError(
                "no AWS region: pass --region, set region in ebami.toml, or set AWS_REGION"
            )
        return region

    @property
    def endpoint_url(self) -> str | None:
        """The endpoint override in effect (`AWS_ENDPOINT_URL`), if any."""
        return self._configured_endpoint(GLOBAL_ENDPOINT_VARIABLE)

    def endpoint_url_for(self, service: str) -> str | None:
        """The endpoint override for one service (`AWS_ENDPOINT_URL_<SERVICE ID>`, then the
        global one).

        Packer ignores these variables, so ebami passes the EC2 one to it explicitly.
        """
        return self._configured_endpoint(endpoint_variable(service)) or self.endpoint_url

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._check_endpoint(endpoint_variable(service))
            with aws_errors(f"creating the {service} client"):
                client = self._session.create_client(
                    service,
                    region_name=self.region,
                    config=self._config(),
                )
            self._bounds.install(
                client.meta.events, client.meta.service_model.service_id.hyphenize()
            )
            if self._watch is not None:
                self._watch.watch(client.meta.events, service)
            self._clients[service] = client
        return self._clients[service]

    def _config(self) -> Config:
        options: dict[str, Any] = {
            "connect_timeout": self._connect_timeout,
            "read_timeout": self._read_timeout,
            "user_agent_extra": f"ebami/{__version__}",
        }
        if not self._user_chose_retry_mode():
            options["retries"] = {"mode": "standard", "total_max_attempts": MAX_ATTEMPTS}
        return Config(**options)

    def _user_chose_retry_mode(self) -> bool:
        if os.environ.get("AWS_RETRY_MODE") or os.environ.get("AWS_MAX_ATTEMPTS"):
            return True
        try:
            scoped = self._session.get_scoped_config()
        except BotoCoreError:
            return False
        return "retry_mode" in scoped or "max_attempts" in scoped

    def _configured_endpoint(self, variable: str) -> str | None:
        """`variable`'s endpoint when botocore will use it (AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
        turns them all off)."""
        if self._session.get_config_variable("ignore_configured_endpoint_urls"):
            return None
        return os.environ.get(variable) or None

    def _check_endpoint(self, variable: str) -> None:
        """Refuse an endpoint variable that is not a URL, before botocore fails on it with a
        bare ValueError."""
        value = self._configured_endpoint(variable)
        if value is not None and not is_endpoint_url(value):
            raise InputError(
                f"{variable}: {value!r} is not an endpoint URL; accepted: http://HOST[:PORT] "
                "or https://HOST[:PORT], such as http://127.0.0.1:5000"
            )


def endpoint_variable(service: str) -> str:
    """The variable botocore reads for one service's endpoint: its service id in snake case
    (`AWS_ENDPOINT_URL_ELASTIC_BEANSTALK`), the rule of botocore's ConfiguredEndpointProvider."""
    name = botocore_utils.SERVICE_NAME_ALIASES.get(service, service)
    service_id = botocore_utils.CLIENT_NAME_TO_HYPHENIZED_SERVICE_ID_OVERRIDES.get(name, name)
    return f"{GLOBAL_ENDPOINT_VARIABLE}_{service_id.replace('-', '_').upper()}"


def is_endpoint_url(value: str) -> bool:
    """http(s)://HOST[:PORT][/PATH] with a host botocore accepts."""
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number below 65536
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(botocore_utils.is_valid_uri(value))


def _origin(url: str) -> str:
    """scheme://host[:port] of a request URL: its path and query say nothing useful."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
