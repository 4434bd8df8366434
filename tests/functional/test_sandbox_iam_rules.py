"""The actions the sandbox asks of a request under --enforce-iam are AWS's (the Service
Authorization Reference's), not only the operation's name."""

from __future__ import annotations

import pytest

from ebami.sandbox.iam_enforcement import required_actions


@pytest.mark.parametrize(
    ("action", "data", "body", "expected"),
    [
        ("elasticbeanstalk:UpdateTagsForResource", {"TagsToAdd.member.1.Key": ["k"]}, b"",
         ["elasticbeanstalk:AddTags"]),
        ("elasticbeanstalk:UpdateTagsForResource", {"TagsToRemove.member.1": ["k"]}, b"",
         ["elasticbeanstalk:RemoveTags"]),
        ("elasticbeanstalk:UpdateTagsForResource",
         {"TagsToAdd.member.1.Key": ["k"], "TagsToRemove.member.1": ["j"]}, b"",
         ["elasticbeanstalk:AddTags", "elasticbeanstalk:RemoveTags"]),
        ("ec2:RunInstances", {"ImageId": ["ami-1"]}, b"", ["ec2:RunInstances"]),
        ("ec2:RunInstances",
         {"IamInstanceProfile.Name": ["p"], "TagSpecification.1.ResourceType": ["instance"]}, b"",
         ["ec2:RunInstances", "ec2:CreateTags", "iam:PassRole"]),
        ("ec2:CreateImage", {"TagSpecification.1.ResourceType": ["image"]}, b"",
         ["ec2:CreateImage", "ec2:CreateTags"]),
        ("ec2:CreateTags", {"ResourceId.1": ["ami-1"]}, b"", ["ec2:CreateTags"]),
        ("ssm:PutParameter", {}, b'{"Name": "/a", "Value": "b"}', ["ssm:PutParameter"]),
        ("ssm:PutParameter", {}, b'{"Name": "/a", "Tags": [{"Key": "k", "Value": "v"}]}',
         ["ssm:PutParameter", "ssm:AddTagsToResource"]),
        ("ssm:PutParameter", {}, b'{"Name": "/a", "Value": "Tags"}', ["ssm:PutParameter"]),
    ],
)  # fmt: skip
def test_required_actions(action: str, data: dict[str, list[str]], body: bytes,
                          expected: list[str]) -> None:  # fmt: skip
    assert required_actions(action, data, body) == expected
