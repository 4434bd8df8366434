"""SIGTERM to `ebami sandbox run -- scripts/pipeline` in each phase of the pipeline leaves no
process of the run and nothing in the sandbox (the real CLI, packer and bubblewrap)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize(
    ("trigger", "said"),
    [
        (r"^packer build of ", "error: interrupted"),
        (r"^launched i-", "error: interrupted: verify stopped; terminated i-"),
    ],
    ids=["during-the-bake", "during-verify"],
)
def test_sigterm_to_the_pipeline_leaves_nothing(trigger: str, said: str, tmp_path: Path) -> None:
    env = {**os.environ, "EBAMI_SANDBOX_DIR": str(tmp_path / "sandbox")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ebami", "sandbox", "run", "--", str(ROOT / "scripts/pipeline")],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    assert proc.stderr is not None
    lines: list[str] = []
    for line in proc.stderr:
        lines.append(line.rstrip("\n"))
        if re.search(trigger, line):
            proc.send_signal(signal.SIGTERM)
            break
    lines += proc.stderr.read().splitlines()
    code = proc.wait(timeout=120)
    assert code == 128 + signal.SIGTERM, lines
    assert any(line.startswith(said) for line in lines), lines
    # The sandbox's own report after the run: silent when nothing was left.
    assert not any(line.startswith("warning: left behind") for line in lines), lines
    assert not group_alive(proc.pid), "a process of the run outlived it"
