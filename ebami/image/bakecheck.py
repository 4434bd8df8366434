"""The check Packer runs during a real-AWS bake: does the builder's ecs.config do its job?

Packer downloads the builder's `/var/lib/ecs/ecs.config` and `/etc/ecs/ecs.config` and runs
`python -m ebami.image.bakecheck` on them (a `shell-local` provisioner), before the image is cleaned
and snapshotted. The files are read with the agent's rules (`ebami.image.ecsconfig`); on failure the
files are shown and the exit code fails the build, so no AMI is made.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ebami.image.ecsconfig import effective_drivers
from ebami.image.ecsfiles import INSTANCE_CONFIG_PATH, USER_CONFIG_PATH, ConfigFile


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ebami.image.bakecheck",
        description="Judge ecs.config files copied from a builder with the ECS agent's rules.",
    )
    parser.add_argument("--drivers", required=True, help="Comma-separated drivers to require.")
    parser.add_argument("instance_config", type=Path, help=f"a copy of {INSTANCE_CONFIG_PATH}")
    parser.add_argument("user_config", type=Path, help=f"a copy of {USER_CONFIG_PATH}")
    args = parser.parse_args(argv)

    files = [
        ConfigFile(INSTANCE_CONFIG_PATH, _read(args.instance_config)),
        ConfigFile(USER_CONFIG_PATH, _read(args.user_config)),
    ]
    required = [name.strip() for name in args.drivers.split(",") if name.strip()]
    report = effective_drivers(files)
    failures = report.failures(required)
    if not failures:
        print(f"ebami: ecs.config allows {', '.join(report.drivers)} ({report.line})")
        return 0
    for config in files:
        print(f"ebami: --- {config.path} ---", file=sys.stderr)
        shown = config.data.decode("utf-8", "replace") if config.data is not None else ""
        print(shown or "(empty)", file=sys.stderr)
    for reason in failures:
        print(f"ebami: ecs.config check failed: {reason}", file=sys.stderr)
    return 1


def _read(path: Path) -> bytes | None:
    """The file's bytes, as ecs-init reads them (no newline translation, no decoding)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


if __name__ == "__main__":
    sys.exit(main())
