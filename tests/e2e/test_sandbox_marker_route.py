"""The marker route of a running sandbox, and `is_sandbox` over real HTTP."""

from __future__ import annotations

import json
import urllib.request

from ebami import __version__
from ebami.sandbox.marker import MARKER_PATH, is_sandbox
from tests.sandbox_helpers import Sandbox


def test_a_running_sandbox_is_one(sandbox: Sandbox) -> None:
    port = sandbox.endpoint.rsplit(":", 1)[1]
    assert is_sandbox(sandbox.endpoint) is True
    assert is_sandbox(f"http://localhost:{port}") is True
    assert is_sandbox(sandbox.endpoint + "/") is True


def test_the_marker_route_says_what_it_is_beside_the_aws_api(sandbox: Sandbox) -> None:
    with urllib.request.urlopen(sandbox.endpoint + MARKER_PATH, timeout=10) as response:  # noqa: S310 - the sandbox's own URL
        assert response.headers["Content-Type"] == "application/json"
        document = json.loads(response.read())
    assert document == {"ebami_sandbox": True, "version": __version__, "region": "us-east-1"}
    # moto's API answers as before on the same port.
    regions = sandbox.client("ec2").describe_regions()["Regions"]
    assert "us-east-1" in {region["RegionName"] for region in regions}
