"""Recording the shape check of every answer a process's botocore clients read.

A `before-parse` handler (botocore emits it with the operation model and the raw response
before parsing) is registered on every botocore session as it makes a client. It checks the
answer while a folder is set, and appends one JSON line per answer to `<folder>/<pid>.jsonl`:
the operation, the status and the findings (an empty list when the answer matches the model).
An answer is held against the client's own model and, where that finds anything, against
botocore's published one (a client such as the EB CLI may load an older model of its own).
The test process sets the folder per test; the processes the tests start find it in
`EBAMI_SHAPE_CHECK_DIR` (site/sitecustomize.py installs this module there).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from .findings import CRASH, Finding
from .validator import check_operation

ENV = "EBAMI_SHAPE_CHECK_DIR"
SITE = Path(__file__).resolve().parent / "site"
_HANDLER_ID = "ebami-shape-check"

_lock = threading.Lock()
_folder: Path | None = None
_installed: tuple[Any, Callable[..., Any]] | None = None


def set_folder(folder: Path | None) -> None:
    """Check and record answers into `folder` from now on (None: stop)."""
    global _folder
    _folder = folder


def environment(folder: Path, base: Mapping[str, str]) -> dict[str, str]:
    """The variables that make a Python process started with `base` record into `folder`."""
    path = [str(SITE), *filter(None, base.get("PYTHONPATH", "").split(os.pathsep))]
    return {ENV: str(folder), "PYTHONPATH": os.pathsep.join(dict.fromkeys(path))}


def forwarded(environ: Mapping[str, str]) -> dict[str, str]:
    """The shape check's variables of `environ`, for a process given an environment of its
    own: nothing when the check is off."""
    if not environ.get(ENV):
        return {}
    return {name: environ[name] for name in (ENV, "PYTHONPATH") if name in environ}


def on_before_parse(**event: Any) -> None:
    """botocore's `before-parse` handler: `operation_model` and the raw `response_dict`."""
    folder = _folder
    if folder is None:
        return
    operation_model, response_dict = event["operation_model"], event["response_dict"]
    operation = f"{operation_model.service_model.service_name}.{operation_model.name}"
    status = int(response_dict.get("status_code", 0))
    try:
        body = response_dict.get("body", b"")
        raw = body if isinstance(body, bytes) else b""
        headers = response_dict.get("headers", {})
        found = check_operation(operation_model, raw, status, headers)
        if found:  # a client may bring a model of its own (the EB CLI does): botocore's decides
            found = check_operation(published(operation_model), raw, status, headers)
    except Exception as error:  # the check must never break the client it watches
        found = [Finding(operation, "", CRASH, f"{type(error).__name__}: {error}")]
    write(folder, operation, status, found)


@cache
def _published_service(name: str, api_version: str) -> Any:
    from botocore.loaders import Loader
    from botocore.model import ServiceModel

    loader = Loader(
        extra_search_paths=[Loader.BUILTIN_DATA_PATH], include_default_search_paths=False
    )
    return ServiceModel(loader.load_service_model(name, "service-2", api_version), name)


def published(operation_model: Any) -> Any:
    """`operation_model` as botocore's own data (not a client's customized copy) models it."""
    service = operation_model.service_model
    model = _published_service(service.service_name, service.api_version)
    return model.operation_model(operation_model.name)


def write(
    folder: Path, operation: str, status: int, found: list[Finding], client: str = "botocore"
) -> None:
    """Append one answer's record to this process's file in `folder`."""
    line = json.dumps(
        {
            "operation": operation,
            "status": status,
            "client": client,
            "findings": [f.to_json() for f in found],
        }
    )
    with _lock, (folder / f"{os.getpid()}.jsonl").open("a", encoding="utf-8") as out:
        out.write(line + "\n")


def install() -> None:
    """Register the handler on every botocore session as it makes a client (once)."""
    global _installed
    if _installed is not None:
        return
    from botocore.session import Session

    original = Session.create_client

    def create_client(self: Session, *args: Any, **kwargs: Any) -> Any:
        self.register("before-parse", on_before_parse, unique_id=_HANDLER_ID)
        return original(self, *args, **kwargs)

    Session.create_client = create_client  # type: ignore[method-assign]
    _installed = (Session, original)


def uninstall() -> None:
    global _installed
    if _installed is not None:
        session, original = _installed
        session.create_client = original
        _installed = None


def records(folder: Path) -> Iterator[dict[str, Any]]:
    """Every answer recorded in `folder`, by every process."""
    for path in sorted(folder.glob("*.jsonl")):
        yield from records_of(path)


def records_of(path: Path) -> Iterator[dict[str, Any]]:
    """The answers one process recorded (its file is named after its process id)."""
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            yield json.loads(line)
        except ValueError:  # a line cut short by a process killed while writing it
            continue
