"""Locates the data folders shipped with ebami (`templates/`, `packer/`).

A wheel carries them inside the package as `ebami/_data/<name>` (pyproject's force-include); an
editable install or a plain checkout has them at the top of the checkout, next to `ebami/`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

DataFolder = Literal["templates", "packer"]

# ebami/core/resources.py: the package is two folders up.
_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def data_dir(name: DataFolder) -> Path:
    """Return the folder `name` as shipped with this installation of ebami."""
    for candidate in (_PACKAGE_DIR / "_data" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    # Not an EbamiError: a broken installation is a bug to report, not a user mistake.
    raise FileNotFoundError(
        f"ebami's {name}/ folder is missing from {_PACKAGE_DIR}; reinstall ebami"
    )
