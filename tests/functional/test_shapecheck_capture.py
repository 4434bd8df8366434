"""The shape check's recording: real botocore clients answered by a stub endpoint (its raw bodies
chosen here) record one line per answer while a folder is set, and nothing otherwise; a check
that raises is recorded as a finding, never raised into the client."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.loaders import Loader
from botocore.model import ServiceModel

from tests.support.shapecheck import capture
from tests.support.shapecheck.findings import CRASH, UNKNOWN
from tests.support.shapecheck.validator import check_operation

GOOD = b"""<DescribeRegionsResponse><requestId>r-1</requestId><regionInfo><item>
<regionName>us-east-1</regionName><optInStatus>opt-in-not-required</optInStatus>
</item></regionInfo></DescribeRegionsResponse>"""
BAD = GOOD.replace(b"<regionName>", b"<regionColour>red</regionColour><regionName>")


class RawAnswer:
    """A `before-send` handler that answers every request with `body`, as an endpoint would."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        headers = HTTPHeaders()
        headers["content-type"] = "text/xml"
        return AWSResponse(request.url, 200, headers, _Raw(self.body))


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


@pytest.fixture
def installed() -> Iterator[None]:
    capture.install()
    yield
    capture.set_folder(None)
    capture.uninstall()


def describe_regions(body: bytes) -> dict[str, Any]:
    session = boto3.session.Session(region_name="us-east-1")
    handler: Any = RawAnswer(body)
    session.events.register("before-send", handler)
    client: Any = session.client("ec2")
    answer: dict[str, Any] = client.describe_regions()
    return answer


@pytest.mark.usefixtures("installed")
def test_each_answer_is_recorded_with_its_findings(tmp_path: Path) -> None:
    capture.set_folder(tmp_path)
    describe_regions(GOOD)
    describe_regions(BAD)
    [good, bad] = list(capture.records(tmp_path))
    assert (good["operation"], good["status"], good["findings"]) == ("ec2.DescribeRegions", 200, [])
    assert [(f["path"], f["kind"]) for f in bad["findings"]] == [
        ("Regions[0].regionColour", UNKNOWN)
    ]


@pytest.mark.usefixtures("installed")
def test_nothing_is_recorded_without_a_folder(tmp_path: Path) -> None:
    describe_regions(GOOD)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("installed")
def test_a_check_that_raises_is_a_finding_not_a_client_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any) -> list[Any]:
        raise ValueError("walker bug")

    monkeypatch.setattr(capture, "check_operation", broken)
    capture.set_folder(tmp_path)
    assert describe_regions(GOOD)["Regions"][0]["RegionName"] == "us-east-1"
    [record] = list(capture.records(tmp_path))
    assert [(f["kind"], f["detail"]) for f in record["findings"]] == [
        (CRASH, "ValueError: walker bug")
    ]


def test_the_environment_puts_the_site_folder_first_once(tmp_path: Path) -> None:
    env = capture.environment(tmp_path, {"PYTHONPATH": f"/elsewhere:{capture.SITE}"})
    assert env == {capture.ENV: str(tmp_path), "PYTHONPATH": f"{capture.SITE}:/elsewhere"}
    assert capture.forwarded({**env, "OTHER": "x"}) == env
    assert capture.forwarded({"PYTHONPATH": "/elsewhere"}) == {}


def test_an_answer_a_client_s_own_older_model_lacks_is_held_to_botocore_s() -> None:
    loader = Loader()
    data = loader.load_service_model("elasticbeanstalk", "service-2")
    older = copy.deepcopy(data)  # as the EB CLI's own copy: ApplicationArn not yet modelled
    del older["shapes"]["ApplicationDescription"]["members"]["ApplicationArn"]
    operation = ServiceModel(older, "elasticbeanstalk").operation_model("DescribeApplications")
    body = b"""<DescribeApplicationsResponse><DescribeApplicationsResult><Applications><member>
      <ApplicationArn>arn:aws:elasticbeanstalk:us-east-1:123456789012:application/webapp
      </ApplicationArn><ApplicationName>webapp</ApplicationName></member></Applications>
      </DescribeApplicationsResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>
      </DescribeApplicationsResponse>"""
    assert [f.kind for f in check_operation(operation, body, 200, {})] == [UNKNOWN]
    assert check_operation(capture.published(operation), body, 200, {}) == []
