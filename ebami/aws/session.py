"""The one place where AWS sessions and clients are made.

Profile and region come from ebami's settings; `AWS_ENDPOINT_URL` (and the per-service
variants) are honoured by botocore itself. Every client gets botocore's standard retry mode
unless the user chose a mode, bounded timeouts and the user agent `ebami/<version>`.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError

from ebami import __version__
from ebami.aws.errors import aws_errors
from ebami.errors import InputError

CONNECT_TIMEOUT_SECONDS = 10
READ_TIMEOUT_SECONDS = 60


class ApiCallCounter:
    """Counts API calls per service and operation (one per call, retries not counted)."""

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()

    def __call__(self, model: Any, **_: Any) -> None:
        self.calls[(model.service_model.service_name, model.name)] += 1

    def lines(self) -> list[str]:
        return [
            f"{service}.{operation}: {count}"
            for (service, operation), count in sorted(self.calls.items())
        ]

    @property
    def total(self) -> int:
        return sum(self.calls.values())


class AwsSession:
    """Makes (and caches) boto3 clients configured the ebami way."""

    def __init__(
        self,
        *,
        profile: str | None = None,
        region: str | None = None,
        counter: ApiCallCounter | None = None,
    ) -> None:
        with aws_errors("opening the AWS session"):
            self._session = boto3.session.Session(profile_name=profile, region_name=region)
        self.counter = counter
        if counter is not None:
            # before-parameter-build fires once per API call, before any handler (a retry, a
            # stub, a cache) can answer it.
            self._session.events.register("before-parameter-build", counter)
        self._clients: dict[str, Any] = {}

    @property
    def region(self) -> str:
        region = self._session.region_name
        if not region:
            raise InputError(
                "no AWS region: pass --region, set region in ebami.toml, or set AWS_REGION"
            )
        return region

    @property
    def endpoint_url(self) -> str | None:
        """The endpoint override in effect (`AWS_ENDPOINT_URL`), if any."""
        return os.environ.get("AWS_ENDPOINT_URL") or None

    def endpoint_url_for(self, service: str) -> str | None:
        """The endpoint override for one service (`AWS_ENDPOINT_URL_<SERVICE>`, then the global).

        Packer ignores these variables, so ebami passes the EC2 one to it explicitly.
        """
        specific = os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}")
        return specific or self.endpoint_url

    def client(self, service: str) -> Any:
        if service not in self._clients:
            with aws_errors(f"creating the {service} client"):
                self._clients[service] = self._session.client(
                    service,  # type: ignore[call-overload]
                    region_name=self.region,
                    config=self._config(),
                )
        return self._clients[service]

    def _config(self) -> Config:
        options: dict[str, Any] = {
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "read_timeout": READ_TIMEOUT_SECONDS,
            "user_agent_extra": f"ebami/{__version__}",
        }
        if not self._user_chose_retry_mode():
            options["retries"] = {"mode": "standard"}
        return Config(**options)

    def _user_chose_retry_mode(self) -> bool:
        if os.environ.get("AWS_RETRY_MODE") or os.environ.get("AWS_MAX_ATTEMPTS"):
            return True
        try:
            scoped = self._session._session.get_scoped_config()
        except BotoCoreError:
            return False
        return "retry_mode" in scoped or "max_attempts" in scoped
