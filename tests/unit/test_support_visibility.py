"""The end-to-end tests' waits for what they wrote with boto3 (`tests.support.visibility`): they
retry EC2's NotFound and read a parameter's history until the version shows, and fail naming
what never showed."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support import visibility


def error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code}!"}}, "Describe")


class Answers:
    """A call that raises the errors given, in turn, and then answers `value`."""

    def __init__(self, *errors: ClientError, value: Any = "found") -> None:
        self.errors = list(errors)
        self.value = value
        self.calls = 0

    def __call__(self) -> Any:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.value


@pytest.fixture(autouse=True)
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(visibility, "INTERVAL", 0.0)


def test_not_found_is_retried_until_the_call_answers() -> None:
    call = Answers(error("InvalidAMIID.NotFound"), error("InvalidInstanceID.NotFound"))
    assert visibility.visible(call, what="AMI ami-1") == "found"
    assert call.calls == 3


def test_another_error_is_not_retried() -> None:
    call = Answers(error("UnauthorizedOperation"))
    with pytest.raises(ClientError, match="UnauthorizedOperation"):
        visibility.visible(call, what="AMI ami-1")
    assert call.calls == 1


def test_the_failure_names_what_never_showed() -> None:
    call = Answers(*[error("InvalidAMIID.NotFound")] * 1000)
    with pytest.raises(pytest.fail.Exception, match="AMI ami-1 never became visible within 0 s"):
        visibility.visible(call, what="AMI ami-1", timeout=0)


class Ssm:
    """GetParameterHistory's pages: ParameterNotFound, then the histories given, in turn."""

    def __init__(self, *histories: list[int] | None) -> None:
        self.histories = list(histories)

    def get_paginator(self, name: str) -> Ssm:
        assert name == "get_parameter_history"
        return self

    def paginate(self, Name: str) -> list[dict[str, Any]]:  # boto3 spells it so
        shown = self.histories.pop(0) if len(self.histories) > 1 else self.histories[0]
        if shown is None:
            raise error("ParameterNotFound")
        return [{"Parameters": [{"Name": Name, "Version": version} for version in shown]}]


def test_a_version_is_waited_for_until_the_history_shows_it() -> None:
    ssm = Ssm(None, [1], [1, 2])
    assert visibility.parameter_version(ssm, "/p", 2) == {"Name": "/p", "Version": 2}


def test_a_version_that_never_shows_fails_naming_the_parameter() -> None:
    with pytest.raises(pytest.fail.Exception) as failed:
        visibility.parameter_version(Ssm([1, 2]), "/p", 3, timeout=0)
    assert "version 3 of SSM parameter /p never became visible within 0 s" in str(failed.value)
    assert "versions [1, 2]" in str(failed.value)
