"""SSM calls ebami makes, named by intent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ebami.aws.errors import aws_errors

if TYPE_CHECKING:
    from mypy_boto3_ssm.client import SSMClient


class Ssm:
    def __init__(self, client: SSMClient) -> None:
        self._client = client

    def publish_image_id(self, name: str, image_id: str) -> int:
        """Write `image_id` to the parameter `name` as an `aws:ec2:image`; its new version.

        With that data type, SSM checks that the value is an AMI the account can use, and
        launch templates can refer to the parameter as `resolve:ssm:NAME`.
        """
        with aws_errors(f"ssm:PutParameter {name}"):
            response = self._client.put_parameter(
                Name=name,
                Value=image_id,
                Type="String",
                DataType="aws:ec2:image",
                Overwrite=True,
            )
        return response["Version"]
