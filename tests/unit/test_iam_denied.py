"""A refused call ends in one line: the IAM action (AWS's word for it, or the table's), what it
was on, and the `ebami iam policy --job` command of the command's job."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from ebami.aws.errors import aws_errors
from ebami.core import errors
from ebami.core.errors import AccessDenied, ExitCode
from ebami.iam.calls import JOBS, Call
from ebami.iam.denied import actions_of, denied_line, job_of


@pytest.fixture
def tagging(monkeypatch: pytest.MonkeyPatch) -> None:
    """A table with an operation authorized under another action's name (as Elastic
    Beanstalk's UpdateTagsForResource is, as AddTags)."""
    call = Call("elasticbeanstalk:UpdateTagsForResource", actions=("elasticbeanstalk:AddTags",))
    monkeypatch.setitem(JOBS, "tagging", (call,))


def refused(label: str, code: str, message: str) -> AccessDenied:
    error = ClientError({"Error": {"Code": code, "Message": message}}, "Op")
    with pytest.raises(AccessDenied) as caught, aws_errors(label):
        raise error
    return caught.value


def test_the_action_and_resource_aws_names_are_the_lines() -> None:
    errors.set_policy_command("ebami iam policy --job apply")
    exc = refused(
        "elasticbeanstalk:UpdateTagsForResource prod",
        "AccessDenied",
        "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: "
        "elasticbeanstalk:AddTags on resource: arn:aws:elasticbeanstalk:us-east-1:"
        "123456789012:environment/web/prod",
    )
    assert exc.exit_code == ExitCode.AWS
    # The error's own message is the line wherever it is shown (an apply's per-environment
    # result too); the CLI's last line is the same.
    assert (
        exc.message
        == denied_line(exc)
        == (
            "access denied: the caller may not elasticbeanstalk:AddTags on "
            "arn:aws:elasticbeanstalk:us-east-1:123456789012:environment/web/prod "
            "(elasticbeanstalk:UpdateTagsForResource); `ebami iam policy --job apply` prints what "
            "it needs"
        )
    )


@pytest.mark.usefixtures("tagging")
def test_without_an_action_in_the_message_the_table_names_it() -> None:
    errors.set_policy_command("ebami iam policy --job lifecycle")
    # EC2 says only that the operation is not authorized.
    exc = refused("ec2:DeregisterImage ami-1", "UnauthorizedOperation", "You are not authorized.")
    assert denied_line(exc) == (
        "access denied: the caller may not ec2:DeregisterImage on ami-1; "
        "`ebami iam policy --job lifecycle` prints what it needs"
    )
    tags = refused("elasticbeanstalk:UpdateTagsForResource prod", "AccessDenied", "no")
    assert "may not elasticbeanstalk:AddTags on prod (elasticbeanstalk:UpdateTagsForResource)" in (
        denied_line(tags)
    )
    # Without the table, the line names the operation.
    assert "may not elasticbeanstalk:UpdateTagsForResource on prod;" in tags.message


@pytest.mark.usefixtures("tagging")
def test_the_table_maps_operations_to_actions() -> None:
    assert actions_of("ssm:SendCommand") == ["ssm:SendCommand"]
    assert actions_of("elasticbeanstalk:UpdateTagsForResource") == ["elasticbeanstalk:AddTags"]
    assert actions_of("ec2:NotInTheTable") == ["ec2:NotInTheTable"]


@pytest.mark.parametrize(
    ("args", "job"),
    [
        (["--region", "us-east-1", "apply", "--env", "prod"], "apply"),
        (["-o", "json", "prune", "--keep", "3"], "lifecycle"),
        (["lookup"], "check"),
        (["sandbox", "start"], None),
    ],
)
def test_each_command_has_its_job(args: list[str], job: str | None) -> None:
    assert job_of(args) == job
