"""Run shell for real inside an instance's root, isolated by bubblewrap.

The jail has no network, no view of the host's processes, a read-only `/usr` from the host
(the tools a script calls: sh, sed, printf...), and the instance's own `/etc`, `/var`, `/opt`,
`/root`, `/home` and `/srv` bound writable from its root directory. Nothing of the host is
writable; `/tmp` is a private tmpfs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from ebami.core.errors import EbamiError
from ebami.sandbox.rootfs import TOOLS_DIR

# The directories of an instance root that are bound writable into the jail.
WRITABLE_DIRS = ("etc", "var", "opt", "root", "home", "srv")
# Top-level host paths a usr-merged system has as symlinks (or directories on older systems).
_USR_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
_running: set[subprocess.Popen[str]] = set()
_running_lock = threading.Lock()
# The instance's own tools (the sandbox's `rpm`) first, then the host's read-only /usr.
_PATH = f"/{TOOLS_DIR}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class JailResult:
    """What a script did: its output, exit code (None when it timed out) and duration."""

    stdout: str
    stderr: str
    exit_code: int | None
    timed_out: bool


class JailUnavailable(EbamiError):
    """bubblewrap is missing or cannot create namespaces here."""


def bwrap_path() -> str:
    path = shutil.which("bwrap")
    if path is None:
        raise JailUnavailable(
            "bubblewrap (bwrap) is not installed; the sandbox runs instance scripts in it: "
            "install it with 'apt-get install bubblewrap' (scripts/system-deps does)"
        )
    return path


def jail_args(root: Path, command: list[str]) -> list[str]:
    """The bwrap command line that runs `command` inside `root`."""
    args = [
        bwrap_path(), "--unshare-all", "--die-with-parent", "--new-session",
        "--ro-bind", "/usr", "/usr",
    ]  # fmt: skip
    for name in _USR_LINKS:
        host = Path("/") / name
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), f"/{name}"]
        elif host.is_dir():
            args += ["--ro-bind", str(host), f"/{name}"]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]  # noqa: S108 - a private tmpfs inside the jail
    for name in WRITABLE_DIRS:
        (root / name).mkdir(exist_ok=True)
        args += ["--bind", str(root / name), f"/{name}"]
    # Debian's /usr/bin links some tools (awk among them) through /etc/alternatives.
    if Path("/etc/alternatives").is_dir():
        (root / "etc" / "alternatives").mkdir(exist_ok=True)
        args += ["--ro-bind", "/etc/alternatives", "/etc/alternatives"]
    args += [
        "--chdir", "/", "--clearenv",
        "--setenv", "PATH", _PATH, "--setenv", "HOME", "/root", "--setenv", "LANG", "C.UTF-8",
        *command,
    ]  # fmt: skip
    return args


def run_script(root: Path, script: str, *, timeout: float) -> JailResult:
    """Run `script` with /bin/sh inside `root`'s jail; kill it all after `timeout` seconds."""
    return run(root, ["/bin/sh", "-c", script], timeout=timeout)


def run(root: Path, command: list[str], *, timeout: float) -> JailResult:
    with subprocess.Popen(
        jail_args(root, command),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    ) as proc:
        with _running_lock:
            _running.add(proc)
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            stdout, stderr = proc.communicate()
            return JailResult(stdout, stderr, None, True)
        except BaseException:
            _kill_group(proc)
            raise
        finally:
            with _running_lock:
                _running.discard(proc)
    return JailResult(stdout, stderr, proc.returncode, False)


def kill_all() -> None:
    """Kill every script still running (the sandbox is stopping)."""
    with _running_lock:
        running = list(_running)
    for proc in running:
        _kill_group(proc)


def _kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
