"""`is_sandbox`: True only for a loopback endpoint whose marker route answers as an ebami
sandbox; never a call to another host, never an exception. (True against a running sandbox is
in tests/e2e/test_sandbox_marker_route.py.)"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ebami.sandbox import marker
from ebami.sandbox.marker import MARKER_PATH, is_sandbox


class Answers:
    """What a plain local HTTP server answers, per path, and which paths were asked for."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.asked: list[str] = []


@pytest.fixture
def local_server() -> Iterator[tuple[str, Answers]]:
    """A local HTTP server that is not a sandbox: it answers what the test puts in `routes`."""
    answers = Answers()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            answers.asked.append(self.path)
            status, headers, body = answers.routes.get(self.path, (404, {}, b"not found"))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", answers
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def json_answer(document: object) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "application/json"}, json.dumps(document).encode()


def test_a_local_server_that_is_not_a_sandbox_is_not_one(
    local_server: tuple[str, Answers],
) -> None:
    endpoint, answers = local_server
    assert is_sandbox(endpoint) is False  # 404
    assert answers.asked == [MARKER_PATH]
    answers.routes[MARKER_PATH] = (200, {"Content-Type": "text/html"}, b"<html>hello</html>")
    assert is_sandbox(endpoint) is False
    answers.routes[MARKER_PATH] = json_answer({"ebami_sandbox": "yes"})
    assert is_sandbox(endpoint) is False
    answers.routes[MARKER_PATH] = json_answer([{"ebami_sandbox": True}])
    assert is_sandbox(endpoint) is False
    # The same server answering as a sandbox would: the check is on the answer, nothing else.
    answers.routes[MARKER_PATH] = json_answer({"ebami_sandbox": True, "version": "0"})
    assert is_sandbox(endpoint + "/some/path?x=1") is True


def test_a_redirect_is_never_followed(local_server: tuple[str, Answers]) -> None:
    endpoint, answers = local_server
    answers.routes[MARKER_PATH] = (302, {"Location": f"{endpoint}/elsewhere"}, b"")
    answers.routes["/elsewhere"] = json_answer({"ebami_sandbox": True})
    assert is_sandbox(endpoint) is False
    assert answers.asked == [MARKER_PATH]


def test_nothing_listening_is_false_not_an_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connection refused
        assert is_sandbox(f"http://127.0.0.1:{port}", timeout=0.5) is False


def test_a_proxy_from_the_environment_is_never_used(
    local_server: tuple[str, Answers], monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy, answers = local_server  # would see the request if it went through a proxy
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy)
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        assert is_sandbox(f"http://127.0.0.1:{probe.getsockname()[1]}", timeout=0.5) is False
    assert answers.asked == []


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://ec2-fips.us-east-1.amazonaws.com",
        "https://ec2.us-east-1.amazonaws.com",
        "http://10.0.0.5:4566",
        "http://192.168.1.10",
        "http://0.0.0.0:4566",
        "http://[2001:db8::1]:4566",
        "http://localhost.example.com:4566",
        "http://127.0.0.1.nip.io:4566",
        "ftp://127.0.0.1:4566",
        "127.0.0.1:4566",
        "http://[::1",
        "",
    ],
)
def test_anything_but_a_loopback_http_endpoint_is_false_without_a_call(
    endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*_: object, **__: object) -> None:
        pytest.fail(f"is_sandbox({endpoint!r}) tried to reach the network")

    monkeypatch.setattr(marker._OPENER, "open", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    assert is_sandbox(endpoint) is False


def test_loopback_names_and_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def answer(request: Any, timeout: float) -> Any:
        asked.append(request.full_url)
        raise OSError("refused")

    monkeypatch.setattr(marker._OPENER, "open", answer)
    for endpoint in ("http://127.0.0.1:1", "http://127.8.9.10:2", "http://[::1]:3"):
        assert is_sandbox(endpoint) is False
    assert asked == [
        "http://127.0.0.1:1" + MARKER_PATH,
        "http://127.8.9.10:2" + MARKER_PATH,
        "http://[::1]:3" + MARKER_PATH,
    ]
    # localhost counts only when every address it has is a loopback one.
    monkeypatch.setattr(socket, "getaddrinfo", lambda *_: [(0, 0, 0, "", ("10.1.2.3", 0))])
    assert is_sandbox("http://localhost:4") is False
    assert len(asked) == 3
    monkeypatch.setattr(socket, "getaddrinfo", lambda *_: [(0, 0, 0, "", ("127.0.0.1", 0))])
    assert is_sandbox("http://LocalHost:4") is False
    assert asked[3:] == ["http://LocalHost:4" + MARKER_PATH]


def test_importing_the_marker_loads_no_aws_sdk_nor_moto() -> None:
    script = (
        "import sys, ebami.sandbox.marker\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'moto', 'boto3', 'botocore'}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
