"""Shape-checks the AWS answers of every Python process the end-to-end tests start.

Python imports `sitecustomize` at start-up from its path; the tests put this folder first on
`PYTHONPATH` and name a findings folder in `EBAMI_SHAPE_CHECK_DIR` (tests/support/shapecheck/
capture.py). Then, once the process imports `botocore.session` (never before: processes that do
not use botocore pay nothing), the check is installed on every botocore session. Without the
variable, or where anything fails (another Python without botocore), it does nothing.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

_PACKAGE = "_ebami_shapecheck"
_WATCHED = "botocore.session"


def _load_capture(folder: Path) -> None:
    package_dir = Path(__file__).resolve().parent.parent
    spec = importlib.util.spec_from_file_location(
        _PACKAGE, package_dir / "__init__.py", submodule_search_locations=[str(package_dir)]
    )
    if spec is None or spec.loader is None:
        return
    package = importlib.util.module_from_spec(spec)
    sys.modules[_PACKAGE] = package
    spec.loader.exec_module(package)
    capture = importlib.import_module(f"{_PACKAGE}.capture")
    capture.install()
    capture.set_folder(folder)


def _report_failure(folder: Path, error: Exception) -> None:
    """A finding that fails the session's check: this process's answers went unchecked."""
    finding = {
        "operation": "(start-up)", "path": "", "kind": "checker failed",
        "detail": f"not installed in {sys.argv!r}: {type(error).__name__}: {error}",
        "shape": "", "value": None,
    }  # fmt: skip
    line = json.dumps({"operation": "(start-up)", "status": 0, "findings": [finding]})
    with (folder / f"{os.getpid()}.jsonl").open("a", encoding="utf-8") as out:
        out.write(line + "\n")


class _AfterBotocoreSession(importlib.abc.MetaPathFinder):
    """Finds nothing itself: when `botocore.session` is about to load, it wraps the loader so
    that the check is installed right after the module has run."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != _WATCHED:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        folder = self.folder
        original_exec = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            original_exec(module)
            try:
                _load_capture(folder)
            except Exception as error:  # never break the process under test: report it
                _report_failure(folder, error)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _activate() -> None:
    folder = os.environ.get("EBAMI_SHAPE_CHECK_DIR")
    if folder and os.path.isdir(folder):
        sys.meta_path.insert(0, _AfterBotocoreSession(Path(folder)))


_activate()
