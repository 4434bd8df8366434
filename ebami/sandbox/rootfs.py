"""Root filesystems of images and instances: one directory each under the sandbox's folder.

An instance's root is a copy of its image's root; `CreateImage` copies an instance's root into
the new image's; terminating an instance drops its root, stopping keeps it. An image's root is
never written once made, so `CopyImage`'s copy shares its source's directory instead of copying
it (a nightly's thousands of copies cost no disk and no time); the directory goes when the last
image sharing it is deregistered, and bears the name of one that is still registered. The sandbox's
package database (what is "installed" in a root) is a text file, one `name version` a line;
every instance gets an `rpm -q` that reads it, so scripts ask for versions as on Amazon Linux.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

PACKAGE_DB = "var/lib/ebami-sandbox/packages"
SSM_AGENT_PACKAGE = "amazon-ssm-agent"
ECS_INIT_PACKAGE = "ecs-init"
# The jail puts this folder first on PATH; each instance gets the sandbox's tools in it.
TOOLS_DIR = "opt/ebami-sandbox/bin"
# `rpm -q NAME...` answered from the package database, in rpm's own output form.
RPM_SHIM = f"""#!/bin/sh
db=/{PACKAGE_DB}
if [ "$1" != "-q" ] || [ "$#" -lt 2 ]; then
  echo "rpm: the ebami sandbox emulates only 'rpm -q NAME...'" >&2
  exit 2
fi
shift
status=0
for name in "$@"; do
  version=$(awk -v name="$name" '$1 == name {{ print $2 }}' "$db" 2>/dev/null)
  if [ -n "$version" ]; then
    echo "$name-$version.x86_64"
  else
    echo "package $name is not installed"
    status=1
  fi
done
exit $status
"""


class RootStore:
    """The directories of image and instance roots under `base`."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self._lock = threading.Lock()
        # Image id -> the image whose directory holds its root (copies sharing another's root).
        self._holder: dict[str, str] = {}
        # Image whose directory is shared -> every registered image using it, itself included.
        self._users: dict[str, set[str]] = {}
        (base / "images").mkdir(parents=True, exist_ok=True)
        (base / "instances").mkdir(parents=True, exist_ok=True)

    def image(self, image_id: str) -> Path:
        return self._directory(self._holder.get(image_id, image_id))

    def _directory(self, holder: str) -> Path:
        return self.base / "images" / holder

    def instance(self, instance_id: str) -> Path:
        return self.base / "instances" / instance_id

    def create_image(self, image_id: str, files: dict[str, str]) -> Path:
        """Make an image root from `files` (path inside the root -> text)."""
        root = self.image(image_id)
        root.mkdir(parents=True, exist_ok=True)
        for path, text in files.items():
            target = inside(root, path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        return root

    def launch(self, image_id: str, instance_id: str) -> Path:
        """Give a new instance a copy of its image's root (an empty root for unknown images)."""
        root = self.instance(instance_id)
        with self._lock:
            if self.image(image_id).is_dir():
                shutil.copytree(self.image(image_id), root, symlinks=True)
            else:
                root.mkdir(parents=True)
        install_tools(root)
        return root

    def snapshot(self, instance_id: str, image_id: str) -> None:
        """Copy an instance's root into a new image's root."""
        with self._lock:
            source = self.instance(instance_id)
            if source.is_dir():
                shutil.copytree(source, self.image(image_id), symlinks=True)
            else:
                self.image(image_id).mkdir(parents=True)

    def copy_image(self, source_id: str, image_id: str) -> None:
        """Give `image_id` the root of `source_id` (shared: neither is ever written again)."""
        with self._lock:
            holder = self._holder.get(source_id, source_id)
            if self._directory(holder).is_dir():
                self._users.setdefault(holder, {holder}).add(image_id)
                self._holder[image_id] = holder

    def clone_image(self, source_id: str, image_id: str) -> None:
        """Give `image_id` a root of its own, a copy of `source_id`'s (a platform release's new
        base AMI: AWS builds it anew; nothing when the source has no root)."""
        source = self.image(source_id)
        if source.is_dir():
            shutil.copytree(source, self.image(image_id), symlinks=True)

    def drop_instance(self, instance_id: str) -> None:
        shutil.rmtree(self.instance(instance_id), ignore_errors=True)

    def drop_image(self, image_id: str) -> None:
        """Forget a deregistered image's root; its directory goes with the last image using it
        (and passes to another one when the image it is named after leaves first)."""
        with self._lock:
            holder = self._holder.pop(image_id, image_id)
            users = self._users.pop(holder, {holder})
            users.discard(image_id)
            if not users:
                shutil.rmtree(self._directory(holder), ignore_errors=True)
                return
            if holder == image_id:
                heir = min(users)
                self._directory(holder).rename(self._directory(heir))
                holder = heir
                for user in users:
                    self._holder[user] = heir
                self._holder.pop(heir)
            if len(users) > 1:
                self._users[holder] = users


def install_tools(root: Path) -> None:
    """Put the sandbox's stand-ins for the image's own tools (`rpm`) into an instance root."""
    tools = root / TOOLS_DIR
    tools.mkdir(parents=True, exist_ok=True)
    rpm = tools / "rpm"
    rpm.write_text(RPM_SHIM)
    rpm.chmod(0o755)


def inside(root: Path, path: str) -> Path:
    """`path` (absolute, as seen inside the instance) as a host path under `root`.

    Raises ValueError when the path would leave the root (`..` or a symlink pointing out).
    """
    if not path.startswith("/"):
        raise ValueError(f"{path!r} is not an absolute path")
    target = (root / path.lstrip("/")).resolve()
    if not target.is_relative_to(root.resolve()):
        raise ValueError(f"{path!r} leaves the instance's root")
    return target


def read_text(root: Path, path: str) -> str | None:
    try:
        return inside(root, path).read_text(errors="replace")
    except (OSError, ValueError):
        return None


def installed_packages(root: Path) -> dict[str, str]:
    text = read_text(root, "/" + PACKAGE_DB) or ""
    packages: dict[str, str] = {}
    for line in text.splitlines():
        name, _, version = line.strip().partition(" ")
        if name:
            packages[name] = version
    return packages


def record_packages(root: Path, packages: dict[str, str]) -> None:
    current = installed_packages(root)
    current.update(packages)
    db = root / PACKAGE_DB
    db.parent.mkdir(parents=True, exist_ok=True)
    db.write_text("".join(f"{name} {version}\n" for name, version in sorted(current.items())))
