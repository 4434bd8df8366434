"""Shape-checks the AWS answers of every Python process the end-to-end tests start.

Python imports `sitecustomize` at start-up from its path; the tests put this folder first on
`PYTHONPATH` and name a findings folder in `EBAMI_SHAPE_CHECK_DIR` (tests/support/shapecheck/
capture.py). Then, once the process imports `botocore.session`, the check is installed on every
botocore session; once it imports moto's threaded server (a sandbox server), that server's
answers to other clients (Packer) are checked too. Nothing is loaded before (processes that use
neither pay nothing); without the variable it does nothing; a failure to install is recorded as
a finding, never raised into the process.
"""

from __future__ import annotations

import os
import sys


def _activate(folder_name: str) -> None:
    import importlib
    import importlib.abc
    import importlib.util
    import json
    from pathlib import Path
    from types import ModuleType
    from typing import Any

    folder = Path(folder_name)
    package_name = "_ebami_shapecheck"

    def package(module: str) -> Any:
        if package_name not in sys.modules:
            package_dir = Path(__file__).resolve().parent.parent
            spec = importlib.util.spec_from_file_location(
                package_name,
                package_dir / "__init__.py",
                submodule_search_locations=[str(package_dir)],
            )
            if spec is None or spec.loader is None:
                raise ImportError(f"no shape check package in {package_dir}")
            loaded = importlib.util.module_from_spec(spec)
            sys.modules[package_name] = loaded
            spec.loader.exec_module(loaded)
        return importlib.import_module(f"{package_name}.{module}")

    def botocore_loaded(_: ModuleType) -> None:
        capture = package("capture")
        capture.install()
        capture.set_folder(folder)

    def moto_server_loaded(module: ModuleType) -> None:
        package("server_side").wrap_server(module, folder)

    def report_failure(error: Exception) -> None:
        finding = {
            "operation": "(start-up)", "path": "", "kind": "checker failed",
            "detail": f"not installed in {sys.argv!r}: {type(error).__name__}: {error}",
            "shape": "", "value": None,
        }  # fmt: skip
        line = json.dumps({"operation": "(start-up)", "status": 0, "findings": [finding]})
        with (folder / f"{os.getpid()}.jsonl").open("a", encoding="utf-8") as out:
            out.write(line + "\n")

    class AfterImport(importlib.abc.MetaPathFinder):
        """Finds nothing itself: when a watched module is about to load, wraps its loader so
        that the check is installed right after the module has run."""

        def __init__(self) -> None:
            self.watched = {
                "botocore.session": botocore_loaded,
                "moto.moto_server.threaded_moto_server": moto_server_loaded,
            }

        def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
            then = self.watched.pop(name, None)
            if then is None:
                return None
            sys.meta_path.remove(self)
            try:
                spec = importlib.util.find_spec(name)
            finally:
                if self.watched:
                    sys.meta_path.insert(0, self)
            if spec is None or spec.loader is None:
                return spec
            original_exec = spec.loader.exec_module

            def exec_module(module: ModuleType) -> None:
                original_exec(module)
                try:
                    then(module)
                except Exception as error:  # never break the process under test
                    report_failure(error)

            spec.loader.exec_module = exec_module  # type: ignore[method-assign]
            return spec

    sys.meta_path.insert(0, AfterImport())


_folder = os.environ.get("EBAMI_SHAPE_CHECK_DIR")
if _folder and os.path.isdir(_folder):
    _activate(_folder)
