"""The Packer template ebami ships (`packer/`), assembled for the Packer version at hand.

`packer/common/` holds the variables and sources every version accepts, `packer/scripts/` the
provisioner scripts, and one build file per Packer generation: `packer-1.6/` for Packer 1.6
(built-in amazon builder, nothing Packer 1.6.6 rejects) and `packer-1.7/` for 1.7 and newer
(`required_plugins`, IMDSv2 on the builder). Packer loads every `*.pkr.hcl` file of a folder,
so ebami copies the common files and the one build file into a folder of its own.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from ebami.core.resources import data_dir

# Packer 1.7 introduced `required_plugins` and the metadata_options of the amazon plugin.
MODERN_PACKER = (1, 7)
COMMON = "common"
SCRIPTS = "scripts"
LEGACY_BUILD = "packer-1.6"
MODERN_BUILD = "packer-1.7"
# The two sources of common/sources.pkr.hcl, as `packer build -only=` names them.
AWS_SOURCE = "amazon-ebs.aws"
SANDBOX_SOURCE = "amazon-ebs.sandbox"


@dataclass(frozen=True)
class TemplateSet:
    """The files handed to Packer, for one Packer generation."""

    folder: Path
    modern: bool

    @property
    def requires_imdsv2_on_builder(self) -> bool:
        return self.modern


def template_files(root: Path | None = None) -> list[Path]:
    """Every file of the shipped template that can change an image, in a stable order."""
    root = root or data_dir("packer")
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file() and (path.suffix == ".hcl" or path.parent.name == SCRIPTS)
    )


def templates_digest(root: Path | None = None) -> str:
    """sha256 over the template's files (paths and contents), whatever the Packer version.

    Both generations' build files count, so that the bake key does not change when the machine
    running the nightly build gets another Packer.
    """
    root = root or data_dir("packer")
    digest = hashlib.sha256()
    for path in template_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def assemble(destination: Path, version: tuple[int, ...], root: Path | None = None) -> TemplateSet:
    """Copy the files for Packer `version` into `destination` (created) and describe them."""
    root = root or data_dir("packer")
    modern = version[:2] >= MODERN_PACKER
    destination.mkdir(parents=True)
    for path in sorted((root / COMMON).glob("*.pkr.hcl")):
        shutil.copy2(path, destination / path.name)
    build = root / (MODERN_BUILD if modern else LEGACY_BUILD) / "build.pkr.hcl"
    shutil.copy2(build, destination / "build.pkr.hcl")
    shutil.copytree(root / SCRIPTS, destination / SCRIPTS)
    return TemplateSet(destination, modern)
