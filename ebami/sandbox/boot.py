"""First boot of an instance: its user data run as cloud-init would, for what ebami uses.

Emulated: `#cloud-config` with `bootcmd`, `write_files`, `repo_releasever` (written to
`/etc/yum.conf`, where yum reads it), `repo_upgrade` (no upgrade is run; the choice is logged),
`packages` (recorded as installed in the sandbox's package database) and `runcmd`; and `#!`
scripts. Shell runs for real in the instance's jail. Anything else (other modules, MIME
multipart, boothooks) is written to the instance's `/var/log/cloud-init-output.log` as not
emulated, never dropped silently. Like cloud-init, the boot ends by writing
`/var/lib/cloud/instance/boot-finished` and `/var/lib/cloud/data/result.json`.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from ebami.sandbox import jail
from ebami.sandbox.rootfs import inside, record_packages

OUTPUT_LOG = "/var/log/cloud-init-output.log"
BOOT_FINISHED = "/var/lib/cloud/instance/boot-finished"
RESULT_JSON = "/var/lib/cloud/data/result.json"
USER_DATA_COPY = "/var/lib/cloud/instance/user-data.txt"
YUM_CONF = "/etc/yum.conf"
USER_SCRIPT = "/var/lib/cloud/instance/scripts/part-001"
SCRIPT_TIMEOUT = 300.0

# Modules cloud-init accepts that change nothing the sandbox models: logged as such.
EMULATED_KEYS = ("bootcmd", "write_files", "repo_releasever", "repo_upgrade", "packages", "runcmd")


@dataclass
class BootResult:
    """What the boot did; `errors` is empty when every step succeeded."""

    errors: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)


def shellify(commands: list[Any]) -> str:
    """A runcmd/bootcmd list as a shell script, quoted the way cloud-init quotes it.

    A string item is a line of shell as written; a list item is an argv whose words are each
    put in single quotes (a single quote inside becomes '\\'').
    """
    lines = ["#!/bin/sh"]
    for item in commands:
        if isinstance(item, (list, tuple)):
            lines.append(" ".join("'" + str(word).replace("'", "'\\''") + "'" for word in item))
        elif isinstance(item, str):
            lines.append(item)
        else:
            raise ValueError(f"a command must be a string or a list, not {type(item).__name__}")
    return "\n".join(lines) + "\n"


def boot(root: Path, user_data: bytes | None, *, timeout: float = SCRIPT_TIMEOUT) -> BootResult:
    """Run `user_data` in the instance whose root directory is `root`."""
    result = BootResult()
    say = result.log.append
    say(f"Cloud-init (ebami sandbox) running 'init' at {_now()}.")
    data = _decompress(user_data or b"")
    if data:
        copy = inside(root, USER_DATA_COPY)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(data)
    text = data.decode("utf-8", errors="replace")
    first_line = text.split("\n", 1)[0].strip()
    if not text.strip():
        say("no user data")
    elif first_line.startswith("#cloud-config"):
        _cloud_config(root, text, result, timeout)
    elif first_line.startswith("#!"):
        _user_script(root, data, result, timeout)
    elif first_line.lower().startswith("content-type:") or "MIME-Version:" in text[:500]:
        say("sandbox: MIME multipart user data is not emulated; nothing of it was run")
    else:
        say(f"sandbox: user data starting with {first_line[:40]!r} is not emulated; ignored")
    _finish(root, result)
    return result


def _cloud_config(root: Path, text: str, result: BootResult, timeout: float) -> None:
    say = result.log.append
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        result.errors.append(f"user data is not valid YAML: {' '.join(str(exc).split())}")
        say(f"Failed loading yaml blob. {result.errors[-1]}")
        return
    if config is None:
        config = {}
    if not isinstance(config, dict):
        result.errors.append("cloud-config is not a mapping")
        say(result.errors[-1])
        return
    for key in sorted(set(config) - set(EMULATED_KEYS)):
        say(f"sandbox: cloud-config module {key!r} is not emulated; ignored")

    steps: list[tuple[str, Callable[[Any], None]]] = [
        ("bootcmd", lambda value: _commands(root, "bootcmd", value, result, timeout)),
        ("write_files", lambda value: _write_files(root, value, result)),
        ("repo_releasever", lambda value: _releasever(root, value, result)),
        ("repo_upgrade", lambda value: say(_repo_upgrade_note(value))),
        ("packages", lambda value: _packages(root, value, result)),
        ("runcmd", lambda value: _commands(root, "runcmd", value, result, timeout)),
    ]
    for key, step in steps:
        if key in config:
            step(config[key])


def _commands(root: Path, module: str, value: Any, result: BootResult, timeout: float) -> None:
    if not isinstance(value, list):
        result.errors.append(f"{module} must be a list")
        result.log.append(result.errors[-1])
        return
    try:
        script = shellify(value)
    except ValueError as exc:
        result.errors.append(f"{module}: {exc}")
        result.log.append(result.errors[-1])
        return
    _run_shell(root, module, script, result, timeout)


def _user_script(root: Path, data: bytes, result: BootResult, timeout: float) -> None:
    """A `#!` script: written where cloud-init keeps it and executed, so its interpreter counts."""
    script = inside(root, USER_SCRIPT)
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_bytes(data)
    script.chmod(0o700)
    _run(root, "scripts-user", [USER_SCRIPT], result, timeout)


def _run_shell(root: Path, what: str, script: str, result: BootResult, timeout: float) -> None:
    _run(root, what, ["/bin/sh", "-c", script], result, timeout)


def _run(root: Path, what: str, command: list[str], result: BootResult, timeout: float) -> None:
    outcome = jail.run(root, command, timeout=timeout)
    result.log.extend(line for line in (outcome.stdout + outcome.stderr).splitlines())
    if outcome.timed_out:
        result.errors.append(f"{what} did not finish within {timeout:.0f} s and was killed")
    elif outcome.exit_code != 0:
        result.errors.append(f"{what} failed with exit code {outcome.exit_code}")
    else:
        return
    result.log.append(f"Failed to run module {what}: {result.errors[-1]}")


def _write_files(root: Path, value: Any, result: BootResult) -> None:
    if not isinstance(value, list):
        result.errors.append("write_files must be a list")
        return
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            result.errors.append("write_files: every entry needs a 'path'")
            continue
        path = entry["path"]
        try:
            target = inside(root, path)
            content = _file_content(entry)
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("ab" if entry.get("append") else "wb") as handle:
                handle.write(content)
            os.chmod(target, int(str(entry.get("permissions", "0644")), 8))
        except (ValueError, OSError) as exc:
            result.errors.append(f"write_files: {path}: {exc}")
            result.log.append(result.errors[-1])
            continue
        if "owner" in entry:
            result.log.append(f"sandbox: write_files {path}: owner is not emulated")
        result.log.append(f"write_files: wrote {path}")


def _file_content(entry: dict[str, Any]) -> bytes:
    content = entry.get("content", "")
    raw = content.encode() if isinstance(content, str) else bytes(content)
    encoding = str(entry.get("encoding", "text")).lower()
    if encoding in ("b64", "base64"):
        return base64.b64decode(raw)
    if encoding in ("gz", "gzip"):
        return gzip.decompress(raw)
    if encoding in ("gz+base64", "gzip+base64", "gz+b64", "gzip+b64"):
        return gzip.decompress(base64.b64decode(raw))
    if encoding != "text":
        raise ValueError(f"unknown encoding {encoding!r}")
    return raw


def _releasever(root: Path, value: Any, result: BootResult) -> None:
    conf = inside(root, YUM_CONF)
    text = conf.read_text() if conf.exists() else "[main]\n"
    line = f"releasever={value}"
    if re.search(r"^releasever=.*$", text, flags=re.MULTILINE):
        text = re.sub(r"^releasever=.*$", line, text, flags=re.MULTILINE)
    else:
        text = text.rstrip("\n") + "\n" + line + "\n"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(text)
    result.log.append(f"repo_releasever: {YUM_CONF} now has {line}")


def _repo_upgrade_note(value: Any) -> str:
    if str(value) == "none":
        return "repo_upgrade: none: no packages upgraded at boot"
    return f"sandbox: repo_upgrade: {value}: package upgrades are not emulated; none were made"


def _packages(root: Path, value: Any, result: BootResult) -> None:
    if not isinstance(value, list):
        result.errors.append("packages must be a list")
        return
    installed: dict[str, str] = {}
    for item in value:
        if isinstance(item, str):
            installed[_package_name(item)] = "sandbox"
        elif isinstance(item, list) and len(item) == 2:
            installed[str(item[0])] = str(item[1])
        else:
            result.errors.append(f"packages: cannot read {item!r}")
    record_packages(root, installed)
    if installed:
        result.log.append("packages: installed (recorded) " + ", ".join(sorted(installed)))


def _package_name(item: str) -> str:
    """yum installs an rpm given by URL as the package the file holds; its name is the file's."""
    if "://" in item and item.endswith(".rpm"):
        return item.rsplit("/", 1)[-1].removesuffix(".rpm")
    return item


def _finish(root: Path, result: BootResult) -> None:
    status = "finished" if not result.errors else "finished with errors"
    result.log.append(f"Cloud-init (ebami sandbox) {status} at {_now()}.")
    log = inside(root, OUTPUT_LOG)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as handle:
        handle.write("\n".join(result.log) + "\n")
    outcome = {"v1": {"datasource": "DataSourceEc2", "errors": result.errors}}
    result_file = inside(root, RESULT_JSON)
    result_file.parent.mkdir(parents=True, exist_ok=True)
    result_file.write_text(json.dumps(outcome, indent=1) + "\n")
    finished = inside(root, BOOT_FINISHED)
    finished.parent.mkdir(parents=True, exist_ok=True)
    finished.write_text(f"0.00 {_now()} ebami-sandbox\n")


def _decompress(data: bytes) -> bytes:
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    return data


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%a, %d %b %Y %H:%M:%S +0000")
