"""Sandboxes that enforce IAM (`ebami sandbox start --enforce-iam`), as the tests and the
minimality sweep start them, and a job policy less one action."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from ebami.sandbox.state_file import SandboxInfo, read_state


def start_enforced(directory: Path, *options: str) -> tuple[SandboxInfo, dict[str, dict[str, str]]]:
    """Start one through the real CLI in `directory` (with `options`): its state and each job's
    user (`iam_users` of `-o json`) by job. The caller stops it."""
    started = subprocess.run(
        [sys.executable, "-m", "ebami", "-o", "json", "sandbox", "start", "--enforce-iam",
         "--dir", str(directory), "--seed", "1", *options],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    if started.returncode != 0:
        raise RuntimeError(f"sandbox start failed: {started.stderr}")
    info = read_state(directory)
    if info is None or not info.enforce_iam:
        raise RuntimeError(f"no sandbox enforcing IAM runs in {directory}")
    users = {user["job"]: user for user in json.loads(started.stdout)["iam_users"]}
    return info, users


def without(document: dict[str, Any], action: str) -> dict[str, Any]:
    """A copy of the policy `document` with `action` taken out of every statement (and the
    statements left with none dropped)."""
    reduced: dict[str, Any] = json.loads(json.dumps(document))
    for statement in reduced["Statement"]:
        statement["Action"] = [item for item in statement["Action"] if item != action]
    reduced["Statement"] = [item for item in reduced["Statement"] if item["Action"]]
    return reduced
