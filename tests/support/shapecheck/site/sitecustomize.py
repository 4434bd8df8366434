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


def _activate(folder: str) -> None:
    """Watch for the modules after which the check is installed. Only cheap modules are
    imported here: this runs at every start-up of every Python process of the tests."""
    import importlib.util
    from types import ModuleType
    from typing import Any

    package_name = "_ebami_shapecheck"

    def package(module: str) -> Any:
        if package_name not in sys.modules:
            package_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
            spec = importlib.util.spec_from_file_location(
                package_name,
                os.path.join(package_dir, "__init__.py"),
                submodule_search_locations=[package_dir],
            )
            if spec is None or spec.loader is None:
                raise ImportError(f"no shape check package in {package_dir}")
            loaded = importlib.util.module_from_spec(spec)
            sys.modules[package_name] = loaded
            spec.loader.exec_module(loaded)
        return importlib.import_module(f"{package_name}.{module}")

    def botocore_loaded(_: ModuleType) -> None:
        from pathlib import Path

        capture = package("capture")
        capture.install()
        capture.set_folder(Path(folder))

    def moto_server_loaded(module: ModuleType) -> None:
        from pathlib import Path

        package("server_side").wrap_server(module, Path(folder))

    def report_failure(error: Exception) -> None:
        import json

        finding = {
            "operation": "(start-up)", "path": "", "kind": "checker failed",
            "detail": f"not installed in {sys.argv!r}: {type(error).__name__}: {error}",
            "shape": "", "value": None,
        }  # fmt: skip
        line = json.dumps({"operation": "(start-up)", "status": 0, "findings": [finding]})
        with open(os.path.join(folder, f"{os.getpid()}.jsonl"), "a", encoding="utf-8") as out:
            out.write(line + "\n")

    class AfterImport:
        """A meta path finder that finds nothing itself: when a watched module is about to
        load, it wraps the module's loader so that the check is installed right after the
        module has run."""

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
