"""Turns botocore's exceptions into ebami's errors, at the boundary of the AWS layer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError

from ebami.core.errors import AccessDenied, AwsError, CredentialsError, InputError, one_line

_ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}
_BAD_CREDENTIALS = {
    "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
    "SignatureDoesNotMatch", "AuthFailure", "UnrecognizedClientException",
}  # fmt: skip


def _denied(label: str, message: str) -> AccessDenied:
    """The refusal of the call `label` (`service:Operation` and what it was on)."""
    operation, _, resource = label.partition(" ")
    return AccessDenied.from_message(message, operation=operation, resource=resource)


@contextmanager
def aws_errors(operation: str) -> Iterator[None]:
    """Raise an `AwsError` naming `operation` for any botocore failure inside the block."""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code", "Unknown")
        message = one_line(str(error.get("Message", "")))
        if code in _ACCESS_DENIED:
            raise _denied(operation, message) from exc
        if code in _BAD_CREDENTIALS:
            raise CredentialsError(
                f"{operation}: AWS rejected the credentials ({code}); refresh them or choose "
                "another --profile"
            ) from exc
        raise AwsError(f"{operation} failed: {code}: {message}") from exc
    except (NoCredentialsError, PartialCredentialsError) as exc:
        raise CredentialsError(
            f"{operation}: no AWS credentials found; pass --profile or set AWS_PROFILE, "
            "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        ) from exc
    except NoRegionError as exc:
        raise InputError(
            f"{operation}: no AWS region; pass --region, set region in ebami.toml, "
            "or set AWS_REGION"
        ) from exc
    except ProfileNotFound as exc:
        raise InputError(f"{exc}; pass an existing --profile") from exc
    except ReadTimeoutError as exc:
        # botocore raises it once the last attempt timed out: every retry went unanswered.
        raise AwsError(
            f"{operation}: {exc.kwargs.get('endpoint_url', 'the AWS endpoint')} accepted the "
            "connection but sent no answer within the read timeout, on every attempt; check "
            "AWS_ENDPOINT_URL and the network, or raise read_timeout (EBAMI_READ_TIMEOUT)"
        ) from exc
    except ConnectTimeoutError as exc:
        raise AwsError(
            f"{operation}: cannot connect to "
            f"{exc.kwargs.get('endpoint_url', 'the AWS endpoint')} within the connect timeout; "
            "check the network, the region and AWS_ENDPOINT_URL, or raise connect_timeout "
            "(EBAMI_CONNECT_TIMEOUT)"
        ) from exc
    except EndpointConnectionError as exc:
        raise AwsError(
            f"{operation}: cannot reach {exc.kwargs.get('endpoint_url', 'the AWS endpoint')}; "
            "check the network, the region and AWS_ENDPOINT_URL"
        ) from exc
    except ResponseParserError as exc:
        # An answer botocore cannot read (a proxy's HTML error page, an endpoint without the
        # service): a failed call like any other, not a bug of ebami's.
        detail = one_line(str(exc))[:200]
        raise AwsError(
            f"{operation} failed: the endpoint's answer is not the service's ({detail})"
        ) from exc
    except BotoCoreError as exc:
        raise AwsError(f"{operation} failed: {exc}") from exc
