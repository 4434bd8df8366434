"""Writing files so that a reader never sees half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ebami.core.errors import InputError


def require_folder(path: Path, option: str) -> None:
    """Refuse, before any work, an output file that cannot be written (`option` names the flag).

    The folder must exist already (a typo must not create a tree of folders), and a file must
    be creatable in it: trying is the only test that holds for root, read-only mounts and
    pseudo filesystems such as /proc alike, where permission bits say nothing.
    """
    folder = path.parent
    if not folder.exists():
        raise InputError(f"{option} {path}: folder {folder} does not exist")
    if not folder.is_dir():
        raise InputError(f"{option} {path}: {folder} is not a folder")
    if path.is_dir():
        raise InputError(f"{option} {path}: is a folder; give the path of a file")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{path.name}.", suffix=".tmp"):
            pass
    except OSError as exc:
        raise InputError(
            f"{option} {path}: cannot write in {folder}: {exc.strerror or exc}"
        ) from exc


def write_atomically(path: Path, text: str, *, option: str | None = None) -> None:
    """Write through a temporary file in the same folder, then rename it over `path`.

    A failure (disk full, folder removed meanwhile) is an InputError naming `option` when the
    path came from one, else the file.
    """
    try:
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
    except OSError as exc:
        raise _cannot_write(path, option, exc) from exc
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise _cannot_write(path, option, exc) from exc
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _cannot_write(path: Path, option: str | None, exc: OSError) -> InputError:
    named = f"{option} {path}" if option else str(path)
    return InputError(f"{named}: cannot write: {exc.strerror or exc}")
