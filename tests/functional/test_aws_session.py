"""The session factory against moto (in-process) and a silent local endpoint: configuration,
the region's sources, counting, endpoint variables, slow-call reports, calls that fit a
deadline, errors."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import botocore
import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.loaders import JSONFileLoader, Loader

from ebami import __version__
from ebami.aws.bounds import MAX_ATTEMPTS
from ebami.aws.errors import aws_errors
from ebami.aws.session import ApiCallCounter, AwsSession, ModelFileLoader
from ebami.aws.watch import SlowCallWatch
from ebami.core.errors import AwsError, CredentialsError, InputError
from ebami.core.waiting import Deadline
from tests.fakes.clock import FakeClock
from tests.fakes.endpoints import SilentEndpoint


def test_clients_get_standard_retries_timeouts_and_user_agent(aws: None) -> None:
    client = AwsSession(region="eu-west-1").client("ec2")
    config = client.meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert (config.connect_timeout, config.read_timeout) == (5.0, 30.0)
    assert f"ebami/{__version__}" in config.user_agent_extra
    assert client.meta.region_name == "eu-west-1"


def test_timeouts_come_from_the_caller(aws: None) -> None:
    config = AwsSession(region="eu-west-1", connect_timeout=2, read_timeout=12.5).client("ssm")
    assert (config.meta.config.connect_timeout, config.meta.config.read_timeout) == (2, 12.5)


def test_the_users_retry_mode_is_kept(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    client = AwsSession(region="eu-west-1").client("ec2")
    assert client.meta.config.retries["mode"] == "adaptive"


def test_clients_are_cached(aws: None) -> None:
    session = AwsSession(region="eu-west-1")
    assert session.client("s3") is session.client("s3")


def test_counter_counts_calls_per_operation(aws: None) -> None:
    counter = ApiCallCounter()
    session = AwsSession(region="us-east-1", counter=counter)
    ec2 = session.client("ec2")
    ec2.describe_images(Owners=["self"])
    ec2.describe_images(Owners=["self"])
    ec2.describe_instances()
    assert counter.lines() == ["ec2.DescribeImages: 2", "ec2.DescribeInstances: 1"]
    assert counter.total == 3


def test_missing_region_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"^no AWS region: pass --region"):
        AwsSession().client("ec2")


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-west-2"}, "eu-west-1"),
        ({"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "eu-west-1"}, "us-west-2"),
        ({"AWS_REGION": "eu-west-1"}, "eu-west-1"),
        ({"AWS_DEFAULT_REGION": "us-west-2"}, "us-west-2"),
        ({"AWS_REGION": "", "AWS_DEFAULT_REGION": "us-west-2"}, "us-west-2"),
    ],
    ids=["both", "both-swapped", "aws-region", "aws-default-region", "empty-aws-region"],
)
def test_aws_region_comes_first_then_aws_default_region(
    monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], expected: str
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    session = AwsSession()
    assert session.region == expected
    assert session.client("ec2").meta.region_name == expected
    # ebami's own setting (--region, ebami.toml, EBAMI_REGION) wins over both.
    assert AwsSession(region="ap-south-1").region == "ap-south-1"


def test_aws_region_wins_over_the_profile_s_region(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\nregion = sa-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    assert AwsSession().region == "sa-east-1"
    monkeypatch.setenv("AWS_REGION", "eu-north-1")
    assert AwsSession().region == "eu-north-1"


def test_unknown_profile_is_an_input_error() -> None:
    with pytest.raises(
        InputError, match=r"profile .*could not be found; pass an existing --profile"
    ):
        AwsSession(profile="nope", region="us-east-1")


def test_missing_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    client = AwsSession(region="us-east-1").client("ec2")
    with (
        pytest.raises(CredentialsError, match=r"^ec2:DescribeImages: no AWS credentials found"),
        aws_errors("ec2:DescribeImages"),
    ):
        client.describe_images(Owners=["self"])


ENDPOINT_ACCEPTED = (
    "accepted: http://HOST[:PORT] or https://HOST[:PORT], such as http://127.0.0.1:5000"
)


@pytest.mark.parametrize(
    "value", ["not-a-url", "localhost:5000", "ftp://example.com", "http://", "http://host:99999"]
)
def test_an_endpoint_variable_that_is_not_a_url_is_named(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", value)
    with pytest.raises(InputError) as exc:
        AwsSession(region="us-east-1")
    assert str(exc.value) == (
        f"AWS_ENDPOINT_URL: {value!r} is not an endpoint URL; {ENDPOINT_ACCEPTED}"
    )


def test_a_service_endpoint_variable_is_checked_by_botocores_name_for_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_ELASTIC_BEANSTALK", "not-a-url")
    session = AwsSession(region="us-east-1")
    session.client("ec2")
    with pytest.raises(InputError) as exc:
        session.client("elasticbeanstalk")
    assert str(exc.value) == (
        f"AWS_ENDPOINT_URL_ELASTIC_BEANSTALK: 'not-a-url' is not an endpoint URL; "
        f"{ENDPOINT_ACCEPTED}"
    )


def test_endpoints_per_service_and_global(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    monkeypatch.setenv("AWS_ENDPOINT_URL_EC2", "https://[::1]:5001/")
    session = AwsSession(region="us-east-1")
    assert session.endpoint_url_for("ec2") == "https://[::1]:5001/"
    assert session.endpoint_url_for("ssm") == "http://127.0.0.1:5000"
    assert session.client("ec2").meta.endpoint_url == "https://[::1]:5001/"


def test_endpoint_variables_botocore_is_told_to_ignore_are_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "not-a-url")
    monkeypatch.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
    session = AwsSession(region="us-east-1")
    assert session.endpoint_url is None
    assert session.client("ec2").meta.endpoint_url == "https://ec2.us-east-1.amazonaws.com"


def watched_ec2(watch: SlowCallWatch, clock: FakeClock, times: list[float]) -> Any:
    """An EC2 client (moto answers it) during whose calls the clock moves through `times`,
    the watch polling at each."""
    client = AwsSession(region="us-east-1", read_timeout=30).client("ec2")
    watch.watch(client.meta.events, "ec2")

    def time_passes(**_: Any) -> None:
        for now in times:
            clock.now = now
            watch.poll()

    client.meta.events.register("before-send", time_passes)
    return client


def test_a_slow_call_is_reported_every_interval(aws: None) -> None:
    clock, lines = FakeClock(100.0), list[str]()
    watch = SlowCallWatch(lines.append, after=5, clock=clock, start=lambda run: None)
    client = watched_ec2(watch, clock, [104.9, 105.0, 107.0, 110.0, 121.0])
    client.describe_images(Owners=["self"])
    waiting = "still waiting for ec2 DescribeImages at https://ec2.us-east-1.amazonaws.com"
    assert lines == [
        f"{waiting} (5 s; read timeout 30 s)",
        f"{waiting} (10 s; read timeout 30 s)",
        # The poll came late: one line, with the time reached, not the ones missed.
        f"{waiting} (20 s; read timeout 30 s)",
    ]
    # Answered: nothing is out any more, the watching thread would end.
    assert watch.poll() is None


def test_an_attempt_botocore_gave_up_on_is_not_reported(aws: None) -> None:
    clock, lines = FakeClock(100.0), list[str]()
    watch = SlowCallWatch(lines.append, after=5, clock=clock, start=lambda run: None)
    # Past connect (5 s) and read (30 s) timeouts: botocore cannot still be waiting for it.
    client = watched_ec2(watch, clock, [135.5])
    client.describe_images(Owners=["self"])
    assert lines == []


def test_one_thread_watches_while_calls_are_out(aws: None) -> None:
    clock, starts = FakeClock(100.0), list[Callable[[], None]]()
    watch = SlowCallWatch(lambda line: None, after=5, clock=clock, start=starts.append)
    client = watched_ec2(watch, clock, [])
    client.describe_images(Owners=["self"])
    client.describe_images(Owners=["self"])
    assert len(starts) == 1
    # The thread's next poll finds nothing out and ends; the next call starts another.
    assert watch.poll() is None
    client.describe_images(Owners=["self"])
    assert len(starts) == 2


def test_an_endpoint_that_never_answers_fails_after_the_attempts_and_says_so(
    silent_endpoint: SilentEndpoint,
) -> None:
    lines: list[str] = []
    session = AwsSession(
        region="us-east-1",
        connect_timeout=1,
        read_timeout=0.3,
        on_slow_call=lines.append,
        slow_call_after=0.1,
    )
    client = session.client("ec2")
    attempts: list[tuple[int, type[BaseException] | None]] = []

    def attempt_ended(context: dict[str, Any], exception: BaseException | None, **_: Any) -> None:
        attempts.append((context["retries"]["attempt"], type(exception) if exception else None))

    client.meta.events.register("response-received", attempt_ended)
    with pytest.raises(AwsError) as exc, aws_errors("ec2:DescribeImages"):
        client.describe_images(Owners=["self"])
    endpoint = session.endpoint_url
    assert str(exc.value) == (
        f"ec2:DescribeImages: {endpoint}/ accepted the connection but sent no answer within the "
        "read timeout, on every attempt; check AWS_ENDPOINT_URL and the network, or raise "
        "read_timeout (EBAMI_READ_TIMEOUT)"
    )
    # The configured attempts, each ended by the read timeout, and no more.
    assert MAX_ATTEMPTS == 3
    assert attempts == [(1, ReadTimeoutError), (2, ReadTimeoutError), (3, ReadTimeoutError)]
    # Reported while waiting, each line in this form (when the thread polls depends on the
    # machine's load, so which marks and attempts got a line is not asserted).
    line = re.compile(
        rf"still waiting for ec2 DescribeImages at {re.escape(str(endpoint))} "
        r"\([0-9.]+ s; read timeout 0\.3 s(; attempt [23] of 3)?\)"
    )
    assert lines
    assert all(line.fullmatch(text) for text in lines), lines


def test_models_load_through_msgspec_exactly_as_botocore_loads_them() -> None:
    # botocore calls the private `_load_file(full_path, open_method)`: a rename must fail here.
    load_file: Any = getattr(JSONFileLoader, "_load_file")  # noqa: B009 - not in the stubs
    inspect.signature(load_file).bind(JSONFileLoader(), "path", open)
    session = AwsSession(region="us-east-1")
    loader = session._session.get_component("data_loader")
    assert isinstance(loader.file_loader, ModelFileLoader)
    ours = loader.load_service_model("ec2", "service-2")
    theirs = Loader().load_service_model("ec2", "service-2")
    assert ours == theirs
    assert list(ours["shapes"]) == list(theirs["shapes"])  # the order, too


def attempts_of(client: Any) -> list[tuple[int, float, type[BaseException] | None]]:
    """Each attempt of the client's calls: its number, its read timeout, how it ended."""
    attempts: list[tuple[int, float, type[BaseException] | None]] = []
    timeouts: list[float] = []

    def sent(request: Any, **_: Any) -> None:
        timeouts.append(request.context.get("read_timeout") or client.meta.config.read_timeout)

    def ended(context: dict[str, Any], exception: BaseException | None, **_: Any) -> None:
        attempt = context["retries"]["attempt"]
        attempts.append((attempt, timeouts[attempt - 1], type(exception) if exception else None))

    # After the session's own handler (which sets the attempt's read timeout), before any
    # handler the test registers later on the same event.
    client.meta.events.register("before-send.ec2", sent)
    client.meta.events.register("response-received", ended)
    return attempts


def test_inside_a_deadline_a_silent_endpoint_gets_one_attempt_that_fits_the_time_left(
    silent_endpoint: SilentEndpoint,
) -> None:
    session = AwsSession(region="us-east-1", connect_timeout=1, read_timeout=30)
    client = session.client("ec2")
    attempts = attempts_of(client)
    deadline = Deadline(1.5)
    with (
        session.bounded(deadline),
        pytest.raises(AwsError, match="accepted the connection but sent no answer"),
        aws_errors("ec2:DescribeImages"),
    ):
        client.describe_images(Owners=["self"])
    # Not 3 attempts of 30 s: one, whose read timeout was the time left; the deadline then
    # passed, and no attempt starts after it.
    ((number, read_timeout, ended),) = attempts
    assert (number, ended) == (1, ReadTimeoutError)
    assert 1.0 <= read_timeout <= 1.5


def test_attempts_that_time_out_share_the_deadline(aws: None) -> None:
    """A silent endpoint on a fake clock: each attempt "waits" its read timeout."""
    clock = FakeClock(100.0)
    session = AwsSession(region="us-east-1", read_timeout=30)
    client = session.client("ec2")
    attempts = attempts_of(client)

    def silent(request: Any, **_: Any) -> None:
        clock.now += request.context["read_timeout"]
        raise ReadTimeoutError(endpoint_url=request.url)

    client.meta.events.register("before-send.ec2", silent)
    with (
        session.bounded(Deadline(50, clock=clock, sleep=clock.sleep)),
        pytest.raises(ReadTimeoutError),
    ):
        client.describe_images(Owners=["self"])
    # 30 s (the setting), then the 20 s left; nothing after the deadline: 50 s in all, where
    # the setting alone would have allowed 3 x 30 s.
    assert attempts == [(1, 30.0, ReadTimeoutError), (2, 20.0, ReadTimeoutError)]
    assert clock.now == 150.0


def test_botocore_sends_an_attempt_s_own_read_timeout() -> None:
    # The request context's `read_timeout` is sent as the attempt's timeout from botocore
    # 1.43.68 on; an older one would ignore it and let a silent endpoint hold each attempt for
    # the whole read_timeout setting, past the deadline (pyproject.toml pins the minimum).
    version = tuple(int(part) for part in botocore.__version__.split(".")[:3])
    assert version >= (1, 43, 68)
