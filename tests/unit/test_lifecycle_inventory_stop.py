"""When the estate read stops (a region failed, or Ctrl-C), the other regions' readers stop at
their next call instead of reading on."""

from __future__ import annotations

import threading
from contextlib import nullcontext
from datetime import datetime, timezone
from typing import Any

import pytest

from ebami.core.errors import AwsError
from ebami.lifecycle.inventory import IncompleteInventory, RegionSources, read_inventory


class Reader:
    """Every method records its name; `own_images` may fail or wait for `release`."""

    def __init__(
        self, calls: list[str], *, fail: bool = False, after: threading.Event | None = None
    ) -> None:
        self.calls = calls
        self.fail = fail
        self.after = after
        self.release = threading.Event()
        self.waiting = threading.Event()

    def own_images(self) -> list[Any]:
        self.calls.append("own_images")
        if self.fail:
            if self.after is not None:
                self.after.wait(5)
            raise AwsError("ec2:DescribeImages failed: InternalError: boom")
        self.waiting.set()
        self.release.wait(5)
        return []

    def __getattr__(self, name: str) -> Any:
        def record(*args: Any, **kwargs: Any) -> list[Any]:
            self.calls.append(name)
            return []

        return record


def source(region: str, reader: Reader) -> RegionSources:
    return RegionSources(
        region=region, ec2=reader, eb=reader, ssm=reader, autoscaling=reader,
        bounded=lambda seconds: nullcontext(),
    )  # fmt: skip


@pytest.mark.parametrize("failing_first", [True, False])
def test_a_failed_region_stops_the_others_at_their_next_call(failing_first: bool) -> None:
    failing_calls: list[str] = []
    slow_calls: list[str] = []
    slow = Reader(slow_calls)
    failing = Reader(failing_calls, fail=True, after=slow.waiting)
    before = set(threading.enumerate())
    regions = [source("eu-west-1", failing), source("us-west-2", slow)]
    ordered = regions if failing_first else regions[::-1]
    # The slow region is in its first call when the failure is raised.
    with pytest.raises(IncompleteInventory, match="reading the estate in eu-west-1"):
        read_inventory(ordered, now=datetime.now(timezone.utc))
    assert slow.waiting.wait(5)
    slow.release.set()
    for thread in set(threading.enumerate()) - before:
        thread.join(5)
    assert slow_calls == ["own_images"]  # nothing after the call under way
