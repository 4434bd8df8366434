"""First boot in the sandbox: cloud-init's behaviour for what ebami uses, shell run in bwrap."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ebami.sandbox.boot import boot, shellify
from ebami.sandbox.rootfs import RootStore, inside, installed_packages
from tests.helpers import cloud_init_script


@pytest.fixture
def root(tmp_path: Path) -> Path:
    store = RootStore(tmp_path / "roots")
    store.create_image(
        "ami-1",
        {"/etc/yum.conf": "[main]\nreleasever=latest\ntimeout=5\n", "/etc/ecs/ecs.config": ""},
    )
    return store.launch("ami-1", "i-1")


def log_of(root: Path) -> str:
    return (root / "var/log/cloud-init-output.log").read_text()


words = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00\r"), max_size=12
)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.one_of(words.filter(lambda w: "\n" not in w), st.lists(words, min_size=1, max_size=4)),
        max_size=4,
    )
)
def test_shellify_matches_cloud_inits_own(commands: list[object]) -> None:
    assert shellify(commands) == cloud_init_script(commands)


def test_cloud_config_modules_in_cloud_init_order(root: Path) -> None:
    user_data = """#cloud-config
repo_releasever: 2017.09
repo_upgrade: none
bootcmd:
  - echo boot >> /var/order
write_files:
  - path: /etc/app/settings.conf
    content: written
    permissions: '0600'
  - path: /etc/app/settings.conf
    content: '+more'
    append: true
    permissions: '0640'
  - path: /opt/blob
    encoding: b64
    content: aGVsbG8=
packages:
  - amazon-ssm-agent
  - [jq, 1.5-1]
runcmd:
  - [sh, -c, 'cat /etc/app/settings.conf >> /var/order']
  - echo run >> /var/order
ntp:
  enabled: true
"""
    result = boot(root, user_data.encode())
    assert result.errors == []
    assert (root / "var/order").read_text() == "boot\nwritten+morerun\n"
    assert (
        root / "etc/app/settings.conf"
    ).stat().st_mode & 0o777 == 0o640  # each entry sets its own
    assert (root / "opt/blob").read_bytes() == b"hello"
    assert (root / "etc/yum.conf").read_text() == "[main]\nreleasever=2017.09\ntimeout=5\n"
    assert installed_packages(root)["jq"] == "1.5-1"
    assert "amazon-ssm-agent" in installed_packages(root)
    log = log_of(root)
    assert "sandbox: cloud-config module 'ntp' is not emulated; ignored" in log
    assert "repo_upgrade: none: no packages upgraded at boot" in log
    assert (root / "var/lib/cloud/instance/boot-finished").exists()
    assert json.loads((root / "var/lib/cloud/data/result.json").read_text())["v1"]["errors"] == []


def test_shebang_script_runs_with_its_interpreter(root: Path) -> None:
    result = boot(root, b"#!/bin/bash\necho ${BASH_VERSION:+bash} > /etc/shell\n")
    assert result.errors == []
    assert (root / "etc/shell").read_text() == "bash\n"


def test_gzip_user_data_is_unpacked(root: Path) -> None:
    boot(root, gzip.compress(b"#cloud-config\nruncmd:\n  - touch /etc/zipped\n"))
    assert (root / "etc/zipped").exists()


@pytest.mark.parametrize(
    ("user_data", "logged"),
    [
        (
            b"Content-Type: multipart/mixed; boundary=x\nMIME-Version: 1.0\n",
            "MIME multipart user data is not emulated",
        ),
        (
            b"#cloud-boothook\necho hi\n",
            "user data starting with '#cloud-boothook' is not emulated",
        ),
    ],
)
def test_unsupported_formats_are_logged_not_dropped(
    root: Path, user_data: bytes, logged: str
) -> None:
    boot(root, user_data)
    assert logged in log_of(root)


def test_failures_are_recorded_like_cloud_init(root: Path) -> None:
    result = boot(root, b"#cloud-config\nruncmd:\n  - echo before\n  - exit 4\n")
    assert result.errors == ["runcmd failed with exit code 4"]
    assert "before" in log_of(root)
    assert "Failed to run module runcmd" in log_of(root)
    bad_yaml = boot(root, b"#cloud-config\nruncmd: [unclosed\n")
    assert bad_yaml.errors[0].startswith("user data is not valid YAML")


def test_write_files_cannot_leave_the_root(root: Path, tmp_path: Path) -> None:
    result = boot(
        root, b"#cloud-config\nwrite_files:\n  - path: /../../../escaped\n    content: x\n"
    )
    assert len(result.errors) == 1
    assert "leaves the instance's root" in result.errors[0]
    assert not (tmp_path / "escaped").exists()
    with pytest.raises(ValueError, match="not an absolute path"):
        inside(root, "etc/x")


def test_b64_helper_round_trip(root: Path) -> None:
    content = base64.b64encode(gzip.compress(b"packed")).decode()
    user_data = "#cloud-config\nwrite_files:\n  - path: /etc/p\n    encoding: gz+b64\n"
    boot(root, f"{user_data}    content: {content}\n".encode())
    assert (root / "etc/p").read_bytes() == b"packed"
