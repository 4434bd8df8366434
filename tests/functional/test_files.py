"""Output files: refused before any work when they cannot be written, never left half-written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ebami.core.errors import InputError
from ebami.core.files import require_folder, write_atomically

# /proc accepts no new files, whatever the user's rights, root included.
PROC = Path("/proc")
needs_proc = pytest.mark.skipif(not (PROC / "self").is_dir(), reason="needs Linux's /proc")


def test_a_writable_folder_passes_and_is_left_as_it_was(tmp_path: Path) -> None:
    require_folder(tmp_path / "user-data.yaml", "--out")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nope" / "user-data.yaml"
    with pytest.raises(InputError) as exc:
        require_folder(path, "--out")
    assert str(exc.value) == (f"--out {path}: folder {path.parent} does not exist")
    assert not path.parent.exists()


def test_a_file_in_place_of_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("")
    path = tmp_path / "plain" / "record.json"
    with pytest.raises(InputError) as exc:
        require_folder(path, "--record")
    assert str(exc.value) == f"--record {path}: {path.parent} is not a folder"


def test_a_folder_in_place_of_the_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        require_folder(tmp_path, "--out")
    assert str(exc.value) == f"--out {tmp_path}: is a folder; give the path of a file"


@needs_proc
def test_a_folder_that_takes_no_files_is_refused() -> None:
    with pytest.raises(InputError) as exc:
        require_folder(PROC / "x", "--out")
    assert str(exc.value) == "--out /proc/x: cannot write in /proc: No such file or directory"


def test_write_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    path.write_text("old")
    write_atomically(path, "new ✓\n", option="--record")
    assert path.read_text(encoding="utf-8") == "new ✓\n"
    assert os.listdir(tmp_path) == ["record.json"]


@needs_proc
def test_a_failed_write_names_the_option() -> None:
    with pytest.raises(InputError) as exc:
        write_atomically(PROC / "x", "text", option="--out")
    assert str(exc.value) == "--out /proc/x: cannot write: No such file or directory"


def test_a_failed_write_without_an_option_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "gone" / "state.json"
    with pytest.raises(InputError) as exc:
        write_atomically(path, "text")
    assert str(exc.value) == f"{path}: cannot write: No such file or directory"


def test_a_write_that_fails_at_the_rename_leaves_no_temporary(tmp_path: Path) -> None:
    # A folder where the file should be: the temporary file is written, the rename fails.
    target = tmp_path / "taken"
    target.mkdir()
    with pytest.raises(InputError) as exc:
        write_atomically(target, "new", option="--record")
    assert str(exc.value) == f"--record {target}: cannot write: Is a directory"
    assert os.listdir(tmp_path) == ["taken"]
    assert os.listdir(target) == []
