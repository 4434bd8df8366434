"""An answer botocore cannot parse (a truncated error document from a proxy or from an endpoint
without the service) is a failed AWS call (AwsError, exit 3), never an internal error."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import botocore.session
import pytest
from botocore.config import Config

from ebami.aws.errors import aws_errors
from ebami.core.errors import AwsError, ExitCode


class TruncatedXml(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b'<?xml version="1.0"?><Error><Code>InternalError</Code'
        self.send_response(500)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), TruncatedXml)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_unparsable_answer_is_a_failed_call_naming_the_operation(endpoint: str) -> None:
    client: Any = botocore.session.get_session().create_client(
        "elasticbeanstalk",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - a local test server
        config=Config(retries={"max_attempts": 1}),
    )
    with pytest.raises(AwsError) as exc, aws_errors("elasticbeanstalk:DescribeEnvironments"):
        client.describe_environments()
    assert exc.value.exit_code == ExitCode.AWS
    assert str(exc.value).startswith(
        "elasticbeanstalk:DescribeEnvironments failed: the endpoint's answer is not the service's"
    )
