"""`POST /__ebami__/release`: "AWS shipped a new base AMI", on demand. After a release, the new
platform version is what Elastic Beanstalk lists and what ebami's own lookup finds; bad input is
refused in one line with nothing changed.

The sandbox runs in this process on moto's in-memory mock; the route is asked through moto's
WSGI application (werkzeug's test client), or over real HTTP for the client function. (The
command over a real server is in tests/e2e/test_sandbox_release_cli.py.)
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server
from werkzeug.test import Client, TestResponse

from ebami.aws.elasticbeanstalk import ElasticBeanstalk
from ebami.cli.main import main
from ebami.core.errors import ExitCode, InputError
from ebami.image.lookup import find_base_ami, platform_filters
from ebami.image.platforms import resolve_platform
from ebami.sandbox import runtime, world
from ebami.sandbox.faults import Faults
from ebami.sandbox.release import RELEASE_FIELDS, RELEASE_PATH, release_platform
from ebami.sandbox.rootfs import PACKAGE_DB, installed_packages
from ebami.sandbox.state_file import SandboxError
from tests.fakes.clock import FakeClock
from tests.sandbox_helpers import sandbox_in_process

REGION = "us-east-1"
JSON = "application/json"
# What a server on 127.0.0.1 puts in the environment (werkzeug's test client sets no peer).
LOOPBACK_PEER = {"REMOTE_ADDR": "127.0.0.1"}


class World:
    """The in-process sandbox: its route, its clients and its image roots."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.route = Client(DomainDispatcherApplication(create_backend_app))
        self.eb: Any = boto3.client("elasticbeanstalk", region_name=REGION)
        self.ec2: Any = boto3.client("ec2", region_name=REGION)

    def post(self, body: Any, *, raw: bytes | None = None, **kwargs: Any) -> TestResponse:
        kwargs.setdefault("content_type", JSON)
        kwargs.setdefault("environ_base", LOOPBACK_PEER)
        data = raw if raw is not None else json.dumps(body).encode()
        return self.route.post(RELEASE_PATH, data=data, **kwargs)

    def release(self, platform: str, release: str | None = None) -> dict[str, str]:
        response = self.post({"platform": platform, "release": release})
        assert response.status_code == 200, response.get_data(as_text=True)
        document: dict[str, str] = response.get_json()
        return document

    def image_root(self, image_id: str) -> Path:
        """The image's root as the sandbox finds it (a copy shares its source's directory)."""
        return runtime.current().roots.image(image_id)

    def base_ami(self, alias: str, release: str | None = None) -> str:
        """The real lookup's answer, through ebami's own Elastic Beanstalk wrapper."""
        base = find_base_ami(
            ElasticBeanstalk(self.eb), resolve_platform(alias), region=REGION, release=release
        )
        return base.image_id

    def catalogue(self) -> list[dict[str, Any]]:
        return list(self.eb.list_platform_versions()["PlatformSummaryList"])

    def describe(self, arn: str) -> dict[str, Any]:
        description: dict[str, Any] = self.eb.describe_platform_version(PlatformArn=arn)[
            "PlatformDescription"
        ]
        return description

    def image_ids(self) -> set[str]:
        return {image["ImageId"] for image in self.ec2.describe_images()["Images"]}


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with sandbox_in_process(tmp_path, monkeypatch, clock=FakeClock(), region=REGION):
        yield World(tmp_path)


def seeded(name: str, version: str) -> world.SeedPlatform:
    return next(p for p in world.PLATFORMS if p.name == name and p.version == version)


@pytest.mark.parametrize(
    ("platform", "release", "previous", "version", "os_version"),
    [
        ("multicontainer-docker", "2017.09", "2.8.4", "2.8.5", "2017.09"),
        # A full name, and no release: the platform's newest version is followed.
        (world.MULTICONTAINER_DOCKER, None, "2.11.0", "2.11.1", "2018.03"),
        ("ecs-al2", None, "3.5.0", "3.5.1", "2"),
        ("ecs-al2023", "2023", "4.2.0", "4.2.1", "2023"),
    ],
)
def test_a_released_version_is_what_the_lookup_finds(
    sandbox: World,
    platform: str,
    release: str | None,
    previous: str,
    version: str,
    os_version: str,
) -> None:
    spec = resolve_platform(platform)
    old = seeded(spec.name, previous)
    assert sandbox.base_ami(platform, release) == old.image_id(REGION)

    answer = sandbox.release(platform, release)

    assert set(answer) == set(RELEASE_FIELDS)
    arn = f"arn:aws:elasticbeanstalk:{REGION}::platform/{spec.name}/{version}"
    assert answer["platform_arn"] == arn
    assert answer["platform_name"] == spec.name
    assert (answer["platform_version"], answer["os_version"]) == (version, os_version)
    image_id = answer["image_id"]
    assert image_id.startswith("ami-")
    assert image_id != old.image_id(REGION)
    released = datetime.fromisoformat(answer["released"])
    assert released.utcoffset() == timezone.utc.utcoffset(None)

    # ListPlatformVersions, with the filters ebami's lookup sends, lists it.
    listed = sandbox.eb.list_platform_versions(Filters=platform_filters(spec))
    versions = {s["PlatformVersion"]: s for s in listed["PlatformSummaryList"]}
    assert versions[version]["PlatformArn"] == arn
    assert versions[version]["OperatingSystemVersion"] == os_version
    assert versions[version]["PlatformLifecycleState"] == "Recommended"

    # DescribePlatformVersion: its own hvm AMI, on the previous version's branch, released now.
    described = sandbox.describe(arn)
    before = sandbox.describe(old.arn(REGION))
    hvm = [a["ImageId"] for a in described["CustomAmiList"] if a["VirtualizationType"] == "hvm"]
    assert hvm == [image_id]
    assert described["PlatformBranchName"] == before["PlatformBranchName"]
    assert described["PlatformBranchLifecycleState"] == before["PlatformBranchLifecycleState"]
    assert described["PlatformLifecycleState"] == "Recommended"
    assert described["DateCreated"] == released
    assert f" v{version} " in described["SolutionStackName"]
    # Recommended moved: no other version of the branch keeps it.
    recommended = [
        s["PlatformVersion"]
        for s in listed["PlatformSummaryList"]
        if s.get("PlatformLifecycleState") == "Recommended"
    ]
    assert recommended == [version]
    assert "PlatformLifecycleState" not in before

    # DescribeImages: an amazon-owned hvm AMI whose root has the previous AMI's files and packages.
    (image,) = sandbox.ec2.describe_images(ImageIds=[image_id])["Images"]
    assert (image["OwnerId"], image["ImageOwnerAlias"]) == (world.AMAZON_OWNER_ID, "amazon")
    assert (image["State"], image["VirtualizationType"]) == ("available", "hvm")
    assert sandbox.ec2.describe_images(Owners=["amazon"], ImageIds=[image_id])["Images"]
    root, old_root = sandbox.image_root(image_id), sandbox.image_root(old.image_id(REGION))
    for path in old.files:
        assert (root / path.lstrip("/")).read_text() == old.files[path]
    assert installed_packages(root) == old.packages == installed_packages(old_root)
    assert (root / PACKAGE_DB).is_file()

    # The real lookup now answers the new AMI.
    assert sandbox.base_ami(platform, release) == image_id


def test_a_second_release_follows_the_first_and_other_releases_keep_theirs(
    sandbox: World,
) -> None:
    newest_2018 = sandbox.base_ami("multicontainer-docker", "2018.03")
    first = sandbox.release("multicontainer-docker", "2017.09")
    second = sandbox.release("multicontainer-docker", "2017.09")

    assert (first["platform_version"], second["platform_version"]) == ("2.8.5", "2.8.6")
    assert second["image_id"] not in {first["image_id"], newest_2018}
    assert sandbox.base_ami("multicontainer-docker", "2017.09") == second["image_id"]
    assert sandbox.base_ami("multicontainer-docker", "2018.03") == newest_2018
    assert "PlatformLifecycleState" not in sandbox.describe(first["platform_arn"])
    # The second copies the first's root, itself the seed's.
    root = sandbox.image_root(second["image_id"])
    assert (root / "etc/system-release").read_text() == "Amazon Linux AMI release 2017.09\n"
    # Other platforms are untouched.
    al2 = seeded(world.ECS_AL2, "3.5.0")
    assert sandbox.describe(al2.arn(REGION))["PlatformLifecycleState"] == "Recommended"


REFUSALS: list[tuple[Any, str]] = [
    ({"platform": "beanstalk-9"}, "unknown platform 'beanstalk-9'; accepted: "),
    (
        {"platform": "multicontainer-docker", "release": "2016.09"},
        "multicontainer-docker has no platform version on release 2016.09 in us-east-1 to "
        "follow; its releases there: 2017.09, 2018.03",
    ),
    (
        {"platform": "ecs-al2", "release": "2017.09"},
        "release '2017.09' is an Amazon Linux 1 release, but ecs-al2 runs Amazon Linux 2",
    ),
    ({"platform": "ecs-al2", "release": 2}, "release is a string such as 2017.09"),
    ({"release": "2017.09"}, "give platform: an alias such as multicontainer-docker"),
    ({"platform": "ecs-al2", "arch": "arm64"}, "unknown field 'arch'"),
    (["ecs-al2"], "the body is not a JSON object"),
    (b"{not json", "the body is not JSON"),
    (b"", "give a JSON body of 1 to 65536 bytes"),
]


def test_bad_input_is_refused_in_one_line_with_nothing_changed(sandbox: World) -> None:
    catalogue, images = sandbox.catalogue(), sandbox.image_ids()
    for body, message in REFUSALS:  # one sandbox for all: each refusal must change nothing
        raw = body if isinstance(body, bytes) else None
        response = sandbox.post(body, raw=raw)
        text = response.get_data(as_text=True)
        assert response.status_code == 400, (body, text)
        assert len(text.splitlines()) == 1, text
        document = json.loads(text)
        assert set(document) == {"error"}, text
        assert document["error"].startswith(message), (body, text)
    assert sandbox.catalogue() == catalogue
    assert sandbox.image_ids() == images


def test_the_route_takes_json_posts_from_loopback_only(sandbox: World) -> None:
    catalogue = sandbox.catalogue()
    body = {"platform": "ecs-al2"}
    refused = {
        "GET": sandbox.route.get(RELEASE_PATH, environ_base=LOOPBACK_PEER),
        "OPTIONS": sandbox.route.options(
            RELEASE_PATH, environ_base=LOOPBACK_PEER
        ),  # no CORS preflight is granted
        "text/plain": sandbox.post(body, content_type="text/plain"),
        "peer": sandbox.post(body, environ_base={"REMOTE_ADDR": "192.0.2.10"}),
        "host": sandbox.post(body, headers={"Host": "rebound.example:5000"}),
    }
    statuses = {name: response.status_code for name, response in refused.items()}
    assert statuses == {"GET": 405, "OPTIONS": 405, "text/plain": 415, "peer": 403, "host": 403}
    assert refused["GET"].headers["Allow"] == "POST"
    assert "Access-Control-Allow-Origin" not in refused["OPTIONS"].headers
    assert all(set(r.get_json()) == {"error"} for r in refused.values())
    assert sandbox.catalogue() == catalogue
    # From loopback, by name or address, it is answered.
    assert sandbox.post(body, headers={"Host": "localhost:5000"}).status_code == 200


def test_the_route_is_never_throttled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    faults = Faults(throttle=0.99)
    with sandbox_in_process(tmp_path, monkeypatch, clock=FakeClock(), faults=faults):
        route = World(tmp_path)
        answers = [route.release("ecs-al2")["platform_version"] for _ in range(3)]
    assert answers == ["3.5.1", "3.5.2", "3.5.3"]


@pytest.fixture
def served(sandbox: World) -> Iterator[str]:
    """The in-process sandbox's WSGI application over real HTTP on 127.0.0.1."""
    server = make_server("127.0.0.1", 0, DomainDispatcherApplication(create_backend_app))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_client_function_releases_over_http_and_reports_refusals(
    sandbox: World, served: str
) -> None:
    answer = release_platform(served, "multicontainer-docker", "2017.09")
    assert (answer["platform_version"], answer["os_version"]) == ("2.8.5", "2017.09")
    assert sandbox.base_ami("multicontainer-docker", "2017.09") == answer["image_id"]
    with pytest.raises(InputError, match=r"^unknown platform 'nope'"):
        release_platform(served, "nope", None)
    with pytest.raises(InputError, match=r"no platform version on release 2016\.09"):
        release_platform(served, "multicontainer-docker", "2016.09")


def test_the_client_asks_loopback_sandboxes_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from ebami.sandbox import marker

    def no_network(*_: object, **__: object) -> None:
        pytest.fail("a non-loopback endpoint was contacted")

    monkeypatch.setattr(marker._OPENER, "open", no_network)
    for endpoint in ("http://192.0.2.1:5000", "https://elasticbeanstalk.amazonaws.com", "ftp://x"):
        with pytest.raises(SandboxError, match="not an http\\(s\\) endpoint on a loopback"):
            release_platform(endpoint, "ecs-al2", None)


def test_the_client_reports_an_endpoint_nothing_answers() -> None:
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens on it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(SandboxError, match=f"cannot reach the sandbox at http://127.0.0.1:{port}"):
        release_platform(f"http://127.0.0.1:{port}", "ecs-al2", None)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--platform", "beanstalk-9"], "error: --platform: unknown platform 'beanstalk-9'"),
        (["--release", "2"], "error: --release: release '2' is an Amazon Linux 2 release"),
        (["--platform", "ecs-al2023", "--release", "2018.03"], "error: --release: release"),
    ],
)
def test_the_command_refuses_bad_input_before_looking_for_a_sandbox(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["sandbox", "release", "--dir", str(tmp_path / "none"), *args])
    captured = capsys.readouterr()
    assert code == ExitCode.USAGE, captured.err
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1
    assert captured.err.startswith(message)


def test_the_command_says_when_no_sandbox_runs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["sandbox", "release", "--dir", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == ExitCode.NOT_FOUND
    assert captured.out == ""
    assert captured.err == (
        f"error: no sandbox is running in {tmp_path}; start one with 'ebami sandbox start'\n"
    )
