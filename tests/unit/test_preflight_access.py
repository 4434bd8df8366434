"""The preflight checks skip (with a warning) what the caller may not ask, and refuse what
AWS says does not exist, naming where the value came from."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest

from ebami.build.options import BuildOptions
from ebami.build.preflight import check_aws_inputs
from ebami.core.errors import AccessDenied, InputError
from ebami.image.platforms import resolve_platform
from tests.helpers import RecordingReporter


class DeniedEc2:
    def subnet_exists(self, subnet_id: str) -> bool:
        raise AccessDenied("ec2:DescribeSubnets subnet-1: access denied (no); grant it")

    def instance_type_offered(self, instance_type: str) -> bool:
        return False


@contextmanager
def blame(key: str) -> Iterator[None]:
    try:
        yield
    except InputError as exc:
        raise InputError(f"--{key.replace('_', '-')}: {exc.message}") from exc


OPTIONS = BuildOptions(platform=resolve_platform("ecs-al2"), release=None, drivers=("fluentd",))


def check(options: BuildOptions, said: RecordingReporter, *, chosen: bool = False) -> None:
    check_aws_inputs(
        options,
        region="us-east-1",
        ec2=DeniedEc2(),
        iam=lambda: pytest.fail("no profile to check"),
        kms=lambda: pytest.fail("no key to check"),
        blame=blame,
        instance_type_chosen=chosen,
        reporter=said,
    )


def test_a_check_the_caller_may_not_make_is_skipped_with_a_warning() -> None:
    said = RecordingReporter()
    check(replace(OPTIONS, subnet_id="subnet-0123456789abcdef0"), said)
    assert said.lines == [
        "warning: subnet_id was not checked before the build: ec2:DescribeSubnets subnet-1: "
        "access denied (no); grant it"
    ]


def test_what_aws_refuses_names_its_source() -> None:
    with pytest.raises(InputError, match=r"^--instance-type: instance type t3\.micro is not"):
        check(OPTIONS, RecordingReporter(), chosen=True)
