"""Reading the probe's output back: files byte for byte, absences, ecs-init, cut-short output."""

from __future__ import annotations

import base64
import subprocess
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ebami.verify import probe_script


def encoded(text: str) -> list[str]:
    """A file as coreutils' base64 prints it: wrapped at 76 characters."""
    data = base64.b64encode(text.encode()).decode()
    return textwrap.wrap(data, 76) or [""]


def output(files: dict[str, str | None], rpm: str = "ecs-init-1.16.2-1.amzn1.x86_64") -> str:
    lines: list[str] = []
    for path, text in files.items():
        if text is None:
            lines.append(f"{probe_script.MARK} missing {path}")
        else:
            lines.append(f"{probe_script.MARK} file {path}")
            lines += encoded(text)
    lines += [f"{probe_script.MARK} ecs-init {rpm}", f"{probe_script.MARK} end"]
    return "\n".join(lines) + "\n"


def test_files_absences_and_the_ecs_init_version_are_read_back() -> None:
    config = 'ECS_AVAILABLE_LOGGING_DRIVERS=["fluentd"]  \nECS_CLUSTER=x\n'
    evidence = probe_script.parse(
        output({"/etc/ecs/ecs.config": config, "/var/lib/ecs/ecs.config": None})
    )
    assert evidence.text("/etc/ecs/ecs.config") == config  # trailing spaces survive
    assert evidence.text("/var/lib/ecs/ecs.config") is None
    assert evidence.config("/var/lib/ecs/ecs.config").text is None
    assert evidence.ecs_init_version == "1.16.2-1.amzn1.x86_64"


def test_a_missing_ecs_init_package_is_no_version() -> None:
    evidence = probe_script.parse(output({}, rpm="package ecs-init is not installed"))
    assert evidence.ecs_init_version is None


@given(st.text(max_size=400))
def test_any_file_text_survives_the_round_trip(text: str) -> None:
    clean = text.encode("utf-8", errors="replace").decode("utf-8")
    assert (
        probe_script.parse(output({"/etc/ecs/ecs.config": clean})).text("/etc/ecs/ecs.config")
        == clean
    )


def test_output_cut_short_is_an_error_that_names_ssm_s_limit() -> None:
    long = output({"/etc/ecs/ecs.config": "A" * 30000})[: probe_script.OUTPUT_LIMIT]
    with pytest.raises(probe_script.ProbeError, match=r"ends early .*24000"):
        probe_script.parse(long)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hello\n", "unexpected line"),
        (
            f"{probe_script.MARK} file /etc/ecs/ecs.config\n@@@\n{probe_script.MARK} end\n",
            "not base64",
        ),
        (f"{probe_script.MARK} missing /etc/ecs/ecs.config\n", "ends early"),
    ],
    ids=["not-the-probe", "bad-base64", "no-end-marker"],
)
def test_malformed_output_is_refused(text: str, message: str) -> None:
    with pytest.raises(probe_script.ProbeError, match=message):
        probe_script.parse(text)


def test_the_script_is_valid_shell_that_reads_only() -> None:
    script = "\n".join(probe_script.script())
    subprocess.run(["sh", "-n", "-c", script], check=True)
    for word in ("rm ", "yum ", "dnf ", ">", "curl", "wget"):
        assert word not in script.replace("2>/dev/null", "")
