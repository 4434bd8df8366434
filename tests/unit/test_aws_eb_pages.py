"""Elastic Beanstalk listings that page by NextToken end: on the last page, on a token
answered twice, or past `MAX_PAGES` pages."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from ebami.aws import elasticbeanstalk
from ebami.aws.elasticbeanstalk import ElasticBeanstalk
from ebami.core.errors import AwsError


class Endless:
    """A client whose DescribeEvents always has another page, with a new token each time."""

    def __init__(self) -> None:
        self.calls = 0

    def describe_events(self, **request: Any) -> dict[str, Any]:
        self.calls += 1
        return {"Events": [], "NextToken": f"token-{self.calls}"}


def test_a_listing_that_never_ends_is_an_error_after_max_pages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(elasticbeanstalk, "MAX_PAGES", 3)
    client = Endless()
    eb = ElasticBeanstalk(client)  # type: ignore[arg-type]
    with pytest.raises(AwsError, match="more than 3 pages"):
        eb.recent_events(since=datetime(2026, 12, 7, tzinfo=timezone.utc))
    assert client.calls == 3
