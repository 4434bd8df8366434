"""Runs the real cloud-init schema validator (`cloud-init schema`) when it is installed."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from ebami.core.errors import one_line
from ebami.core.results import CheckResult, CheckStatus

SCHEMA_CHECK = "cloud-init schema"
_TIMEOUT_SECONDS = 60

Runner = Callable[..., "subprocess.CompletedProcess[str]"]


def check_schema(
    text: str, *, binary: str | None = None, run: Runner = subprocess.run
) -> CheckResult:
    """Validate cloud-config `text` with `cloud-init schema --config-file`.

    Without a cloud-init binary (`binary` or the one on PATH) the check is reported as skipped,
    never as passed.
    """
    executable = binary or shutil.which("cloud-init")
    if executable is None:
        return CheckResult(
            SCHEMA_CHECK, CheckStatus.SKIPPED, "cloud-init is not installed; schema not checked"
        )
    with tempfile.TemporaryDirectory(prefix="ebami-") as folder:
        path = Path(folder) / "user-data.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            proc = run(
                [executable, "schema", "--config-file", str(path)],
                capture_output=True,
                text=True,
                timeout=_TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return CheckResult(SCHEMA_CHECK, CheckStatus.FAILED, f"could not run cloud-init: {exc}")
    output = one_line((proc.stdout + " " + proc.stderr).replace(str(path), "user-data"))
    status = CheckStatus.PASSED if proc.returncode == 0 else CheckStatus.FAILED
    return CheckResult(SCHEMA_CHECK, status, output or f"exit code {proc.returncode}")
