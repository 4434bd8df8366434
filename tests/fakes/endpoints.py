"""An AWS endpoint that accepts connections and never answers, for the tests of read timeouts,
attempts and the error a user gets."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass
class SilentEndpoint:
    url: str
    # Set once a client has connected (and is now waiting for an answer that never comes).
    connected: threading.Event


@contextlib.contextmanager
def silent_endpoint_running() -> Iterator[SilentEndpoint]:
    """An endpoint on 127.0.0.1 that accepts connections and never answers. It stops as the
    block ends, or by itself after 30 s."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.05)
    stop = threading.Event()
    connected = threading.Event()
    accepted: list[socket.socket] = []

    def accept() -> None:
        deadline = time.monotonic() + 30
        while not stop.is_set() and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                accepted.append(server.accept()[0])
                connected.set()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}"
    try:
        yield SilentEndpoint(url, connected)
    finally:
        stop.set()
        thread.join()
        server.close()
        for connection in accepted:
            connection.close()
