"""What every part of the EC2 wrapper shares: the client, and the shapes of EC2's filters and
error answers.

`ebami.aws.ec2.Ec2` is composed of one part per intent (`ec2_images`, `ec2_instances`,
`ec2_region`), each a subclass of `Ec2Base`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ebami.core.errors import NotFoundError

if TYPE_CHECKING:
    from mypy_boto3_ec2.client import EC2Client

# EC2 accepts up to 200 values in one filter.
FILTER_VALUES = 200
# EC2's error codes for an AMI id that names no registered AMI (deregistered, or never was).
GONE_IMAGE = {"InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"}
# The most a Describe call answers in one page where it takes MaxResults (instances, snapshots).
SCAN_PAGE = 1000


class Ec2Base:
    def __init__(self, client: EC2Client) -> None:
        self._client = client

    def knows(self, feature: str) -> bool:
        """Whether botocore knows `feature`: an operation (`DisableImage`) or one of its
        parameters (`DescribeImages.IncludeDisabled`)."""
        operation, _, parameter = feature.partition(".")
        model = self._client.meta.service_model
        if operation not in model.operation_names:
            return False
        if not parameter:
            return True
        shape = model.operation_model(operation).input_shape
        return shape is not None and parameter in shape.members


def chunks(values: list[str], size: int = FILTER_VALUES) -> list[list[str]]:
    """`values` in runs of at most `size` (default: short enough for one filter)."""
    return [values[start : start + size] for start in range(0, len(values), size)]


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def raise_if_missing(exc: ClientError, codes: set[str], message: str) -> None:
    """NotFoundError(`message`) when EC2's error code is one of `codes`."""
    if exc.response.get("Error", {}).get("Code") in codes:
        raise NotFoundError(message) from exc
