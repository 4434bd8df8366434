"""Waiting, as a careful user of AWS does, until EC2 and SSM show what a test has just written
with boto3.

EC2 is eventually consistent: right after RunInstances or CreateImage a call naming the new id
may answer `InvalidInstanceID.NotFound` / `InvalidAMIID.NotFound` for a while ("Eventual
consistency in the Amazon EC2 API"). SSM validates an `aws:ec2:image` value after PutParameter
answers: the version it answered shows in the parameter's history only later (PutParameter's
`DataType`). The sandbox behaves so by default, so a test that writes and reads back waits here
first (`aws ec2 wait image-exists` / `instance-exists` in a user's script). For ids the test
made itself only: ebami's own waits are ebami's to do (`ebami.aws.visibility`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from botocore.exceptions import ClientError

T = TypeVar("T")
# Generous: the sandbox shows a new resource after a second or so, on a machine that may be busy.
DEADLINE = 30.0
INTERVAL = 0.1
NOT_FOUND = frozenset({"InvalidInstanceID.NotFound", "InvalidAMIID.NotFound"})


def visible(call: Callable[[], T], *, what: str, timeout: float = DEADLINE) -> T:
    """`call()`, tried again while EC2 answers that `what` does not exist; the test fails,
    naming `what`, if it still does at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code not in NOT_FOUND:
                raise
            if time.monotonic() >= deadline:
                pytest.fail(f"{what} never became visible within {timeout:g} s: {error}")
        time.sleep(INTERVAL)


def image_exists(ec2: Any, image_id: str) -> dict[str, Any]:
    """DescribeImages of `image_id`, once EC2 shows it."""
    images: list[dict[str, Any]] = visible(
        lambda: ec2.describe_images(ImageIds=[image_id])["Images"], what=f"AMI {image_id}"
    )
    return images[0]


def instance_exists(ec2: Any, instance_id: str) -> dict[str, Any]:
    """DescribeInstances of `instance_id`, once EC2 shows it."""
    reservations: list[dict[str, Any]] = visible(
        lambda: ec2.describe_instances(InstanceIds=[instance_id])["Reservations"],
        what=f"instance {instance_id}",
    )
    found: dict[str, Any] = reservations[0]["Instances"][0]
    return found


def parameter_version(
    ssm: Any, name: str, version: int, *, timeout: float = DEADLINE
) -> dict[str, Any]:
    """The entry of version `version` (what PutParameter answered) in `name`'s history, once SSM
    shows it; the test fails, naming the parameter and the version, if it does not by the
    deadline (SSM dropped the value, or never validated it)."""
    deadline = time.monotonic() + timeout
    while True:
        history = _history(ssm, name)
        for entry in history:
            if entry["Version"] == version:
                return entry
        if time.monotonic() >= deadline:
            shown = [entry["Version"] for entry in history]
            pytest.fail(
                f"version {version} of SSM parameter {name} never became visible within "
                f"{timeout:g} s (its history shows versions {shown})"
            )
        time.sleep(INTERVAL)


def put_image_parameter(ssm: Any, name: str, value: str, **kwargs: Any) -> int:
    """PutParameter of `value` (an `aws:ec2:image` value) to `name`, then wait until SSM shows
    the version it answered; that version."""
    version = int(
        ssm.put_parameter(
            Name=name, Value=value, Type="String", DataType="aws:ec2:image", **kwargs
        )["Version"]
    )
    parameter_version(ssm, name, version)
    return version


def _history(ssm: Any, name: str) -> list[dict[str, Any]]:
    try:
        pages = ssm.get_paginator("get_parameter_history").paginate(Name=name)
        return [entry for page in pages for entry in page["Parameters"]]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ParameterNotFound":
            return []  # a new parameter's first version is not there yet
        raise
