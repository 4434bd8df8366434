"""Answers instead of the network, for tests of throttling through real botocore clients: a
client's `before-send` event gets a `ThrottlingEndpoint`, which throttles its first attempts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders


class Body:
    """A response body botocore can stream."""

    def __init__(self, content: bytes) -> None:
        self._content = content

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._content


@dataclass
class ThrottlingEndpoint:
    """Answers the first `throttles` attempts (all of them when None) with `throttled` (HTTP
    400), then with `answer` (HTTP 200); `attempts` records botocore's attempt numbers."""

    throttles: int | None
    throttled: bytes
    answer: bytes
    attempts: list[int] = field(default_factory=list)

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        self.attempts.append(request.context["retries"]["attempt"])
        if self.throttles is None or len(self.attempts) <= self.throttles:
            return AWSResponse(request.url, 400, HTTPHeaders(), Body(self.throttled))
        return AWSResponse(request.url, 200, HTTPHeaders(), Body(self.answer))
