"""ebami as a built wheel, installed apart from the checkout, run from elsewhere."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SEED_LINE = 'ECS_AVAILABLE_LOGGING_DRIVERS=["json-file","syslog","awslogs","fluentd","none"]'


def test_wheel_carries_templates_and_packer(tmp_path: Path) -> None:
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path / "dist"), str(ROOT)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    (wheel,) = (tmp_path / "dist").glob("ebami-*.whl")
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(site), str(wheel)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr
    assert (site / "ebami" / "_data" / "templates" / "cloud-config" / "al1.yaml.j2").is_file()
    assert (site / "ebami" / "_data" / "packer").is_dir()

    # The wheel's copy comes first on the path; the checkout is nowhere near the working folder.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    probe = (
        "import sys, ebami.core.resources as r; from ebami.cli.main import main\n"
        "sys.stderr.write(str(r.data_dir('templates')) + '\\n')\n"
        "raise SystemExit(main(['render', '--release', '2017.09']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=elsewhere, env=env,
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == str(site / "ebami" / "_data" / "templates")
    assert yaml.safe_load(proc.stdout)["runcmd"][-1][-1] == SEED_LINE
    if shutil.which("cloud-init"):
        user_data = elsewhere / "user-data.yaml"
        user_data.write_text(proc.stdout)
        schema = subprocess.run(
            ["cloud-init", "schema", "--config-file", str(user_data)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert schema.returncode == 0, schema.stdout + schema.stderr
