"""The sandbox server: moto's threaded server on 127.0.0.1 with ebami's extensions and the seed
world. Importing this module loads moto; the CLI imports it only for `sandbox` commands."""

from __future__ import annotations

import logging
import os
import random
import shutil
import socket
from pathlib import Path
from typing import TYPE_CHECKING

from ebami.core.errors import one_line
from ebami.sandbox.faults import Faults
from ebami.sandbox.state_file import SandboxError

if TYPE_CHECKING:
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

DEFAULT_REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
LISTEN_ADDRESS = "127.0.0.1"


class SandboxServer:
    """One sandbox: start() serves it over HTTP, stop() ends it and removes instance roots."""

    def __init__(
        self,
        directory: Path,
        *,
        port: int = 0,
        region: str = DEFAULT_REGION,
        faults: Faults | None = None,
        seed: int = 0,
        fleet: int = 0,
        enforce_iam: bool = False,
    ) -> None:
        self.directory = directory
        self.port = port
        self.region = region
        self.faults = faults or Faults()
        self.seed = seed
        self.fleet = fleet  # more environments: ebami.sandbox.world.fleet_regions
        # IAM authorizes each request once the world is seeded (ebami.sandbox.iam_enforcement).
        self.enforce_iam = enforce_iam
        self._server: ThreadedMotoServer | None = None

    @property
    def roots_dir(self) -> Path:
        return self.directory / "roots"

    def start(self) -> str:
        """Serve the sandbox; returns its endpoint URL once it answers and the world is seeded."""
        # moto reads these when its backends are made: no default AMIs (the world brings its
        # own) and RunInstances refuses unknown AMIs, as AWS does.
        os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
        # moto makes boto3 sessions of its own: the caller's AWS profile must not reach them.
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            os.environ.pop(name, None)
        from moto import settings
        from moto.moto_server.threaded_moto_server import ThreadedMotoServer

        from ebami.sandbox import install_extensions, runtime
        from ebami.sandbox.rootfs import RootStore
        from ebami.sandbox.seed import seed

        self.port_check()
        settings.ENABLE_AMI_VALIDATION = True
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request on stderr
        self.jail_check()
        shutil.rmtree(self.roots_dir, ignore_errors=True)
        install_extensions()
        dice = random.Random(self.seed)  # noqa: S311 - the throttling fault's dice, not crypto
        runtime.install(runtime.Runtime(RootStore(self.roots_dir), self.faults, self.region, dice))
        seed(ACCOUNT_ID, self.region, fleet=self.fleet)
        if self.enforce_iam:
            from ebami.sandbox import iam_enforcement

            iam_enforcement.enable()
        server = ThreadedMotoServer(ip_address=LISTEN_ADDRESS, port=self.port, verbose=False)
        server.start()
        self._server = server
        self.port = server.get_host_and_port()[1]
        return self.endpoint

    def port_check(self) -> None:
        """A taken `--port` is refused at once: moto's server would fail to bind in a thread of
        its own, keep the process alive and never answer."""
        if not self.port:
            return
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
            try:
                probe.bind((LISTEN_ADDRESS, self.port))
            except OSError as exc:
                raise SandboxError(
                    f"--port {self.port} is taken on {LISTEN_ADDRESS} ({exc.strerror}): give a "
                    "free port, or 0 for any"
                ) from None

    @property
    def endpoint(self) -> str:
        return f"http://{LISTEN_ADDRESS}:{self.port}"

    def stop(self) -> None:
        from ebami.sandbox import jail

        server, self._server = self._server, None
        if server is not None:
            server.stop()
        jail.kill_all()
        shutil.rmtree(self.roots_dir, ignore_errors=True)

    def jail_check(self) -> None:
        """Fail early, with the fix, when bubblewrap cannot run here."""
        from ebami.sandbox import jail

        probe = self.directory / "jail-check"
        probe.mkdir(parents=True, exist_ok=True)
        try:
            outcome = jail.run(probe, ["/bin/true"], timeout=30)
        finally:
            shutil.rmtree(probe, ignore_errors=True)
        if outcome.exit_code != 0:
            reason = one_line(outcome.stderr) or f"exit code {outcome.exit_code}"
            raise jail.JailUnavailable(
                f"bubblewrap cannot create its isolated root here ({reason}); on Ubuntu 24.04 "
                "allow user namespaces: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"
            )
