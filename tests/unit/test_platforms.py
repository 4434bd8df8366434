import pytest

from ebami.core.errors import InputError
from ebami.image.platforms import PLATFORMS, OsFamily, resolve_platform


@pytest.mark.parametrize(
    ("value", "family"),
    [
        ("multicontainer-docker", OsFamily.AL1),
        ("Multi-container Docker running on 64bit Amazon Linux", OsFamily.AL1),
        ("ecs-al2", OsFamily.AL2),
        ("ECS running on 64bit Amazon Linux 2", OsFamily.AL2),
        ("ECS-AL2023", OsFamily.AL2023),
    ],
)
def test_resolves_alias_and_full_name(value: str, family: OsFamily) -> None:
    assert resolve_platform(value).os_family is family


def test_unknown_platform_lists_accepted_names() -> None:
    with pytest.raises(InputError) as exc:
        resolve_platform("docker-al2")
    message = str(exc.value)
    assert message.startswith("unknown platform 'docker-al2'; accepted: multicontainer-docker")
    assert all(p.alias in message for p in PLATFORMS)


@pytest.mark.parametrize("release", ["2017.09", "2018.03"])
def test_al1_accepts_its_releases(release: str) -> None:
    assert resolve_platform("multicontainer-docker").validate_release(release) == release


@pytest.mark.parametrize("release", ["2017.9", "17.09", "2017-09", "2019.03", " 2017.09", "2"])
def test_al1_refuses_malformed_or_foreign_releases(release: str) -> None:
    with pytest.raises(InputError, match=r"accepted: 2011\.09, .*2018\.03$"):
        resolve_platform("multicontainer-docker").validate_release(release)


def test_al1_release_on_al2_is_named_as_such() -> None:
    with pytest.raises(InputError) as exc:
        resolve_platform("ecs-al2").validate_release("2017.09")
    assert str(exc.value) == (
        "release '2017.09' is an Amazon Linux 1 release, but ecs-al2 runs Amazon Linux 2; "
        "accepted: 2"
    )


def test_only_al1_pins_repositories() -> None:
    pinned = {p.alias for p in PLATFORMS if p.releases_pin_repositories}
    assert pinned == {"multicontainer-docker"}


@pytest.mark.parametrize(
    ("alias", "release", "os_version", "matches"),
    [
        ("multicontainer-docker", "2017.09", "2017.09", True),
        ("multicontainer-docker", "2017.09", "2018.03", False),
        ("ecs-al2023", "2023", "2023.6", True),
        ("ecs-al2", "2", "2023", False),
    ],
)
def test_os_version_matching(alias: str, release: str, os_version: str, matches: bool) -> None:
    assert resolve_platform(alias).os_version_matches(release, os_version) is matches
