"""Writing files so that a reader never sees half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ebami.errors import InputError


def require_folder(path: Path, option: str) -> None:
    """Refuse an output file whose folder does not exist (`option` names the flag)."""
    if not path.parent.is_dir():
        raise InputError(f"{option} {path}: folder {path.parent} does not exist")


def write_atomically(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder, then rename it over `path`."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
