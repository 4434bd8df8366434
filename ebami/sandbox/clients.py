"""How clients reach a sandbox: the variables that point AWS clients (boto3, the AWS CLI,
ebami) at it, with the fake credentials it accepts; the shell lines that set them; and an EC2
client of its own. This module does not import botocore until a client is made (`root_client`).
"""

from __future__ import annotations

from typing import Any

from ebami.sandbox.state_file import SandboxInfo

ENV_MARKER = "EBAMI_SANDBOX"  # set to the endpoint; tells ebami commands they talk to a sandbox
FAKE_KEY_ID = "sandbox"
FAKE_SECRET = "sandbox-secret"  # noqa: S105 - a placeholder the sandbox accepts, not a secret


def client_environment(endpoint: str, region: str) -> dict[str, str]:
    """The variables that point AWS clients (boto3, the AWS CLI, ebami) at a sandbox."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": FAKE_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        ENV_MARKER: endpoint,
        # The sandbox settles health at each step of an update, so ebami's health settle
        # window (60 s on AWS, where health lags behind) needs one second here.
        "EBAMI_SETTLE": "1",
    }


# Variables that would send a client's credentials or requests elsewhere.
CLEARED_VARIABLES = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


def export_lines(info: SandboxInfo) -> str:
    lines = [
        f"export {key}={value}"
        for key, value in client_environment(info.endpoint, info.region).items()
    ]
    lines.append("unset " + " ".join(CLEARED_VARIABLES))
    return "\n".join(lines)


def ec2_client(endpoint: str, region: str) -> Any:
    """An EC2 client for a sandbox (`root_client`)."""
    return root_client("ec2", endpoint, region)


def root_client(service: str, endpoint: str, region: str) -> Any:
    """A client of `service` for a sandbox: its endpoint, region and fake credentials (the
    account's root user where IAM is enforced), whatever AWS_PROFILE or the AWS config files of
    the caller say."""
    import botocore.session
    from botocore.config import Config

    isolated = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    return isolated.create_client(
        service,
        region_name=region,
        aws_access_key_id=FAKE_KEY_ID,
        aws_secret_access_key=FAKE_SECRET,
        endpoint_url=endpoint,
        config=Config(
            retries={"mode": "standard", "total_max_attempts": 10},
            connect_timeout=5,
            read_timeout=30,
        ),
    )
