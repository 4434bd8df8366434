"""The AWS half of the CLI's factory (`ebami.cli.factory`): one session per region, its service
wrappers and Packer, and the executors of plans. Everything is made on first use, so a command
imports (botocore, jinja2, the Packer runner...) only what it needs.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ebami.cli.context import AppContext

if TYPE_CHECKING:
    from typing_extensions import Self

    from ebami.aws.ec2 import Ec2
    from ebami.aws.elasticbeanstalk import ElasticBeanstalk
    from ebami.aws.s3 import S3
    from ebami.aws.session import ApiCallCounter, AwsSession
    from ebami.aws.ssm import Ssm
    from ebami.aws.sts import Sts
    from ebami.config.settings import Settings
    from ebami.core.plan import Executor
    from ebami.core.waiting import Deadline
    from ebami.image.channels import Channels
    from ebami.image.protection import ImageGuard
    from ebami.image.rollback import RollbackTargets
    from ebami.image.stock import StockVerdicts
    from ebami.packer.runner import Packer

# The sandbox's marker answers from loopback at once; a silent loopback port gets no longer.
MARKER_TIMEOUT = 2.0


class _Shared:
    """What the factories of one command share (`Factory.in_region`): the factory of each
    other region, the sandbox marker's answer per endpoint (asked once per run), the endpoints
    warned about, the API call counter."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.regions: dict[str, FactoryBase] = {}
        self.sandboxes: dict[str, bool] = {}
        self.warned: set[str] = set()
        self.counter: ApiCallCounter | None = None


class FactoryBase:
    """Threads may share a factory: its session makes clients one at a time, botocore's clients
    are thread-safe, and the deadline that bounds a call is each thread's own."""

    def __init__(
        self, app: AppContext, settings: Settings, *, shared: _Shared | None = None
    ) -> None:
        self.app = app
        self.settings = settings
        self._shared = shared or _Shared()

    def in_region(self, region: str | None) -> Self:
        """The run's factory for `region`: this one when it is this one's region (or None),
        else one per region, made once, sharing this one's sandbox answers, warnings and API
        call counter."""
        if region is None or region == self.settings.region:
            return self
        if self.settings.region is None and region == self.session.region:
            return self
        shared = self._shared
        with shared.lock:
            if region not in shared.regions:
                settings = self.settings.model_copy(update={"region": region})
                shared.regions[region] = type(self)(self.app, settings, shared=shared)
            found = shared.regions[region]
            assert isinstance(found, type(self))  # noqa: S101 - one class per run
            return found

    @property
    def region(self) -> str:
        return self.session.region or ""

    # --- AWS -----------------------------------------------------------------------------------

    @cached_property
    def session(self) -> AwsSession:
        with _loading():
            from ebami.aws.session import ApiCallCounter, AwsSession

            shared = self._shared
            with shared.lock:
                if shared.counter is None:
                    shared.counter = ApiCallCounter()
                self.app.counter = shared.counter
            session = AwsSession(
                profile=self.settings.profile,
                region=self.settings.region,
                counter=shared.counter,
                connect_timeout=self.settings.connect_timeout,
                read_timeout=self.settings.read_timeout,
                on_slow_call=self.app.terminal.progress,
            )
        endpoint = session.endpoint_url
        if endpoint and self._first_warning(endpoint):
            if self._is_sandbox(endpoint):
                self.app.terminal.warn(
                    f"sandbox: talking to the ebami sandbox at {endpoint}, not AWS"
                )
            else:
                self.app.terminal.warn(f"talking to {endpoint}, not to AWS's endpoints")
        return session

    def _first_warning(self, endpoint: str) -> bool:
        """Whether no factory of this command has warned about `endpoint` yet."""
        with self._shared.lock:
            first = endpoint not in self._shared.warned
            self._shared.warned.add(endpoint)
        return first

    @cached_property
    def sandbox(self) -> bool:
        """Whether the EC2 endpoint is an ebami sandbox, by the sandbox's own marker (an
        endpoint override alone proves nothing: it may be a FIPS or VPC endpoint)."""
        endpoint = self.session.endpoint_url_for("ec2")
        return endpoint is not None and self._is_sandbox(endpoint)

    @contextmanager
    def bounded(self, seconds: float) -> Iterator[Deadline]:
        """A deadline `seconds` from now that every AWS call inside the block fits."""
        from ebami.core.waiting import Deadline

        with self.session.bounded(Deadline(seconds)) as deadline:
            yield deadline

    def _client(self, service: str) -> Any:
        with _loading():
            return self.session.client(service)

    def _is_sandbox(self, endpoint: str) -> bool:
        from ebami.sandbox import marker

        shared = self._shared
        with shared.lock:
            if endpoint not in shared.sandboxes:
                timeout = min(MARKER_TIMEOUT, self.settings.connect_timeout)
                shared.sandboxes[endpoint] = marker.is_sandbox(endpoint, timeout=timeout)
            return shared.sandboxes[endpoint]

    @cached_property
    def ec2(self) -> Ec2:
        from ebami.aws.ec2 import Ec2

        return Ec2(self._client("ec2"))

    @cached_property
    def ssm(self) -> Ssm:
        from ebami.aws.ssm import Ssm

        return Ssm(self._client("ssm"))

    @cached_property
    def eb(self) -> ElasticBeanstalk:
        from ebami.aws.elasticbeanstalk import ElasticBeanstalk

        return ElasticBeanstalk(self._client("elasticbeanstalk"))

    @cached_property
    def s3(self) -> S3:
        from ebami.aws.s3 import S3

        return S3(self._client("s3"))

    @cached_property
    def sts(self) -> Sts:
        from ebami.aws.sts import Sts

        return Sts(self._client("sts"))

    def channels(self) -> Channels:
        """The channels of this region, under the `channel_parameter` setting's pattern: a
        parameter name SSM would refuse is refused naming where the setting came from."""
        from ebami.config.formats import channel_parameter_check
        from ebami.image.channels import Channels

        check = channel_parameter_check(
            self.settings.named("channel_parameter"), self.session.region
        )
        return Channels(self.ssm, self.settings.channel_parameter, check=check)

    @cached_property
    def image_guard(self) -> ImageGuard:
        """What this run protects from deregistration in this region, each AMI once."""
        from ebami.image.protection import ImageGuard

        return ImageGuard(self.ec2, self.app.terminal)

    @cached_property
    def stock_verdicts(self) -> StockVerdicts:
        """The verdicts on the platforms' own AMIs in this region (each read once per run)."""
        from ebami.image.stock import StockVerdicts

        return StockVerdicts(self.ssm, self.channels().prefix)

    def rollback_targets(self) -> RollbackTargets:
        """The environments' rollback targets in this region, under the channels' folder."""
        from ebami.image.rollback import RollbackTargets

        return RollbackTargets(self.ssm, self.channels().prefix)

    @cached_property
    def packer(self) -> Packer:
        from ebami.packer.process import SubprocessRunner
        from ebami.packer.runner import Packer

        # Packer reads credentials itself; the profile ebami uses must be the one Packer uses.
        environ = dict(self.app.environ)
        if self.settings.profile:
            environ["AWS_PROFILE"] = self.settings.profile
        return Packer.find(SubprocessRunner(), environ)

    def prefetch_packer_version(self) -> None:
        """`packer version` on the other core while ebami plans. A missing Packer is an error
        only if the plan bakes (the bake action asks again); reusing an AMI needs none."""
        from ebami.core.errors import ToolError

        with suppress(ToolError):
            self.packer.prefetch_version()

    # --- executing plans -------------------------------------------------------------------------

    def executor(self, actions: object) -> Executor:
        """The executor of a plan; its clean-up's AWS calls fit the clean-up's own deadline."""
        from ebami.core.plan import Executor

        return Executor(actions, self.app.terminal, bounds=self.session.bounded)


@contextmanager
def _loading() -> Iterator[None]:
    """No garbage collection while botocore and its service models load: they make hundreds of
    thousands of objects, none of them garbage, and collecting over them as they come costs
    about 0.1 s of CPU (measured with `ebami build` in the sandbox)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
