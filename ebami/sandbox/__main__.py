"""`python -m ebami.sandbox serve ...`: the background server process of `ebami sandbox start`.

It serves until SIGTERM or SIGINT, then stops the server, kills running instance scripts,
removes the instance roots and its state file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

from ebami.core.errors import EbamiError
from ebami.core.interrupts import STOP_SIGNALS, handling
from ebami.sandbox.faults import Faults
from ebami.sandbox.state_file import SandboxInfo, remove_state, write_state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ebami.sandbox")
    sub = parser.add_subparsers(dest="verb", required=True)
    serve = sub.add_parser("serve", help="serve a sandbox until SIGTERM")
    serve.add_argument("--dir", type=Path, required=True)
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--region", default="us-east-1")
    serve.add_argument("--seed", type=int, default=0)
    serve.add_argument("--faults", default="{}")
    serve.add_argument("--fleet", type=int, default=0)
    serve.add_argument("--enforce-iam", action="store_true")
    args = parser.parse_args(argv)

    stopping = threading.Event()
    with handling(dict.fromkeys(STOP_SIGNALS, lambda *_: stopping.set())):
        return _serve(args, stopping)


def _serve(args: argparse.Namespace, stopping: threading.Event) -> int:
    from ebami.sandbox.server import SandboxServer

    try:
        server = SandboxServer(
            args.dir,
            port=args.port,
            region=args.region,
            faults=Faults.from_json(json.loads(args.faults)),
            seed=args.seed,
            fleet=args.fleet,
            enforce_iam=args.enforce_iam,
        )
        endpoint = server.start()
    except EbamiError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    pid = os.getpid()
    write_state(
        args.dir,
        SandboxInfo(
            pid,
            endpoint,
            args.region,
            str(args.dir),
            server.faults,
            time.time(),
            args.fleet,
            enforce_iam=args.enforce_iam,
        ),
    )
    print(f"ebami sandbox serving at {endpoint}", flush=True)
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        server.stop()
        remove_state(args.dir, pid)
        print("ebami sandbox stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
