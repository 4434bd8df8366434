"""The shape check sees the answers of this process's boto3 clients and of the Python processes
the tests start, whether they inherit the test's environment or get only the sandbox's."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from collections import Counter
from pathlib import Path

from tests.sandbox_helpers import Sandbox
from tests.support.runs import ebami
from tests.support.shapecheck import capture


def recorded(folder: Path) -> Counter[tuple[str, str]]:
    """(process: "this" or "child", operation) of every answer recorded so far."""
    counts: Counter[tuple[str, str]] = Counter()
    for path in folder.glob("*.jsonl"):
        who = "this" if int(path.stem) == os.getpid() else "child"
        for line in capture.records_of(path):
            counts[(who, line["operation"])] += 1
    return counts


def test_answers_are_checked_in_this_process_and_in_the_processes_it_starts(
    sandbox: Sandbox, shape_check_folder: Path, tmp_path: Path
) -> None:
    before = recorded(shape_check_folder)

    sandbox.client("elasticbeanstalk").describe_applications()
    inherited = ebami(sandbox, "lookup", "--release", "2017.09", cwd=tmp_path)
    own_environment = subprocess.run(
        [sys.executable, "-m", "ebami", "lookup", "--release", "2018.03"],
        env={"PATH": "/usr/bin:/bin", **sandbox.env()},
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert inherited.returncode == 0, inherited.stderr
    assert own_environment.returncode == 0, own_environment.stderr
    new = recorded(shape_check_folder) - before
    assert new[("this", "elasticbeanstalk.DescribeApplications")] == 1
    assert new[("child", "elasticbeanstalk.ListPlatformVersions")] >= 2


def test_the_sandbox_checks_its_answers_to_clients_that_are_not_botocore(
    sandbox: Sandbox, shape_check_folder: Path
) -> None:
    def by_client() -> Counter[tuple[str, str]]:
        return Counter(
            (record.get("client", ""), record["operation"])
            for record in capture.records(shape_check_folder)
        )

    before = by_client()
    request = urllib.request.Request(  # noqa: S310 - the sandbox's http endpoint
        sandbox.endpoint,
        data=b"Action=DescribeRegions&Version=2016-11-15",
        headers={
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "User-Agent": "aws-sdk-go/1.36.0 (go1.15; linux; amd64)",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20240131/us-east-1/ec2/"
            "aws4_request, SignedHeaders=host;x-amz-date, Signature=0",
            "X-Amz-Date": "20240131T120000Z",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - the sandbox
        assert b"<DescribeRegionsResponse" in answer.read()

    assert (by_client() - before) == Counter({("aws-sdk-go/1.36.0", "ec2.DescribeRegions"): 1})
