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
import shlex
import threading
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import botocore.session
import msgspec
from botocore import utils as botocore_utils
from botocore.config import Config
from botocore.exceptions import BotoCoreError
from botocore.loaders import JSONFileLoader

from ebami import __version__
from ebami.aws.bounds import MAX_ATTEMPTS, DeadlineBounds
from ebami.aws.errors import aws_errors
from ebami.aws.watch import SLOW_CALL_AFTER_SECONDS, SlowCallWatch
from ebami.config.settings import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT
from ebami.core.errors import InputError
from ebami.core.waiting import Deadline

GLOBAL_ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL"
# The AWS SDKs' region variable, read before botocore's own AWS_DEFAULT_REGION.
REGION_VARIABLE = "AWS_REGION"


class ApiCallCounter:
    """Counts API calls per service and operation (one per call, retries not counted)."""

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        # Threads share one counter (fleet apply, the estate's regions): no count may be lost.
        self._lock = threading.Lock()

    def __call__(self, **event: Any) -> None:
        model = event["model"]
        with self._lock:
            self.calls[(model.service_model.service_name, model.name)] += 1

    def lines(self) -> list[str]:
        return [
            f"{service}.{operation}: {count}"
            for (service, operation), count in sorted(self.calls.items())
        ]

    @property
    def total(self) -> int:
        return sum(self.calls.values())


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
        # botocore's session is not thread-safe: threads sharing this one (fleet apply, the
        # estate's regions) make their clients one at a time.
        self._making = threading.Lock()
        self._check_endpoint(GLOBAL_ENDPOINT_VARIABLE)

    def bounded(self, deadline: Deadline) -> AbstractContextManager[Deadline]:
        """Within the block, every call of this session's clients fits `deadline`: each
        attempt's read timeout fits the time left, throttled calls are retried until it passes,
        and no attempt starts after it."""
        return self._bounds.bound(deadline)

    @property
    def deadline(self) -> Deadline | None:
        """The deadline this thread's calls fit now (`bounded`), if any."""
        return self._bounds.deadline

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

    def service_regions(self, service: str) -> set[str]:
        """The regions botocore knows `service` to have an endpoint in (its endpoint data)."""
        return set(self._session.get_available_regions(service))

    def client(self, service: str) -> Any:
        with self._making:
            return self._client(service)

    def _client(self, service: str) -> Any:
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
