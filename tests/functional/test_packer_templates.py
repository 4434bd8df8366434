"""The shipped Packer template: `packer validate` (1.6.6) on what 1.6.6 parses, python-hcl2 on
the Packer >= 1.7 part, and the two generations' build files kept in step."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest

from ebami.core.resources import data_dir
from ebami.packer.template import (
    AWS_SOURCE,
    SANDBOX_SOURCE,
    assemble,
    template_files,
    templates_digest,
)

PACKER = data_dir("packer")
LEGACY = PACKER / "packer-1.6" / "build.pkr.hcl"
MODERN = PACKER / "packer-1.7" / "build.pkr.hcl"
REQUIRED = {
    "region": "us-east-1",
    "source_ami": "ami-0123456789abcdef0",
    "ami_name": "ebami-validate",
    "user_data_file": "/dev/null",
}


def packer_validate(folder: Path, only: str, **extra: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("packer")
    if binary is None:
        pytest.fail("packer is not installed; scripts/system-deps installs it")
    command = [binary, "validate", f"-only={only}"]
    for name, value in {**REQUIRED, **extra}.items():
        command += ["-var", f"{name}={value}"]
    return subprocess.run(
        [*command, str(folder)],
        env={**os.environ, "CHECKPOINT_DISABLE": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def installed_version() -> tuple[int, ...]:
    output = subprocess.run(
        ["packer", "version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    return tuple(int(part) for part in output.split("v", 1)[1].split()[0].split("."))


@pytest.mark.parametrize(
    ("only", "extra"),
    [
        (AWS_SOURCE, {}),
        (AWS_SOURCE, {"communicator": "session_manager"}),
        (AWS_SOURCE, {"encrypt_boot": "true", "ami_regions": '["eu-west-1"]'}),
        (SANDBOX_SOURCE, {"ec2_endpoint": "http://127.0.0.1:5000"}),
    ],
)
def test_packer_validates_the_template_for_the_installed_packer(
    tmp_path: Path, only: str, extra: dict[str, str]
) -> None:
    template = assemble(tmp_path / "template", installed_version())
    result = packer_validate(template.folder, only, **extra)
    assert result.returncode == 0, result.stdout + result.stderr


def test_packer_1_6_rejects_the_modern_part_which_is_why_it_is_separate(tmp_path: Path) -> None:
    if installed_version()[:2] != (1, 6):
        pytest.skip("shows Packer 1.6's limits; the installed Packer is newer")
    template = assemble(tmp_path / "template", (1, 7, 0))
    result = packer_validate(template.folder, AWS_SOURCE)
    assert result.returncode != 0
    assert "required_plugins" in result.stdout + result.stderr


def _block(body: dict[str, Any], name: str) -> list[Any]:
    value: list[Any] = body.get(name, [])
    return value


def test_modern_part_requires_imdsv2_on_the_builder() -> None:
    document = hcl2.load(MODERN.open())
    (packer_block,) = _block(document, "packer")
    (plugins,) = packer_block["required_plugins"]
    assert plugins["amazon"]["source"].strip('"') == "github.com/hashicorp/amazon"
    (build,) = _block(document, "build")
    (nested,) = build["source"]
    (name,) = nested
    assert name.strip('"') == AWS_SOURCE
    (metadata,) = nested[name]["metadata_options"]
    assert metadata["http_tokens"].strip('"') == "required"
    assert metadata["http_endpoint"].strip('"') == "enabled"
    assert {"imds_support", "deprecate_at"} <= set(nested[name])


def test_both_generations_run_the_same_provisioners() -> None:
    legacy = hcl2.load(LEGACY.open())["build"][0]
    modern = hcl2.load(MODERN.open())["build"][0]
    assert legacy["provisioner"] == modern["provisioner"]
    assert legacy["post-processor"] == modern["post-processor"]
    # Every provisioner is for real AWS only: the sandbox source has none.
    for provisioner in legacy["provisioner"]:
        (body,) = provisioner.values()
        assert [item.strip('"') for item in body["only"]] == [AWS_SOURCE]


def test_every_shipped_hcl_file_parses() -> None:
    for path in PACKER.rglob("*.pkr.hcl"):
        assert hcl2.load(path.open()), path


def test_assemble_picks_the_build_file_by_version(tmp_path: Path) -> None:
    old = assemble(tmp_path / "old", (1, 6, 6))
    new = assemble(tmp_path / "new", (1, 11, 2))
    assert (old.modern, new.modern) == (False, True)
    assert (old.folder / "build.pkr.hcl").read_text() == LEGACY.read_text()
    assert (new.folder / "build.pkr.hcl").read_text() == MODERN.read_text()
    assert sorted(p.name for p in old.folder.glob("*.pkr.hcl")) == [
        "build.pkr.hcl",
        "sources.pkr.hcl",
        "variables.pkr.hcl",
    ]
    assert os.access(old.folder / "scripts" / "clean-image.sh", os.X_OK)


def test_digest_covers_every_template_file_and_nothing_else(tmp_path: Path) -> None:
    copy = tmp_path / "packer"
    shutil.copytree(PACKER, copy)
    assert templates_digest(copy) == templates_digest(PACKER)
    names = {path.relative_to(copy).as_posix() for path in template_files(copy)}
    assert "README.md" not in names
    assert {"packer-1.6/build.pkr.hcl", "packer-1.7/build.pkr.hcl"} <= names
    (copy / "README.md").write_text("docs change nothing")
    assert templates_digest(copy) == templates_digest(PACKER)
    script = copy / "scripts" / "clean-image.sh"
    script.write_text(script.read_text() + "\n# changed\n")
    assert templates_digest(copy) != templates_digest(PACKER)
