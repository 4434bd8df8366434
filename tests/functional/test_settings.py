from __future__ import annotations

from pathlib import Path

import pytest

from ebami.errors import ConfigError, InputError
from ebami.settings import load_settings


def write(folder: Path, text: str) -> Path:
    path = folder / "ebami.toml"
    path.write_text(text)
    return path


def test_flags_beat_environment_beat_file(tmp_path: Path) -> None:
    write(tmp_path, 'region = "eu-west-1"\nrelease = "2017.09"\ninstance_type = "t3.small"\n')
    environ = {"EBAMI_REGION": "eu-central-1", "EBAMI_RELEASE": "2018.03"}
    settings = load_settings(None, environ, {"region": "us-east-1", "release": None}, cwd=tmp_path)
    assert (settings.region, settings.release, settings.instance_type) == (
        "us-east-1",
        "2018.03",
        "t3.small",
    )
    assert settings.source_of("region") == "--region"
    assert settings.source_of("release") == "EBAMI_RELEASE"
    assert settings.source_of("instance_type") == "ebami.toml"
    assert settings.source_of("platform") == "default"


def test_named_environments(tmp_path: Path) -> None:
    write(tmp_path, '[environments.prod]\napplication = "shop"\nenvironment = "shop-prod"\n')
    settings = load_settings(None, {}, {}, cwd=tmp_path)
    assert settings.environment("prod").environment == "shop-prod"
    with pytest.raises(InputError) as exc:
        settings.environment("staging")
    assert str(exc.value) == (
        "--env 'staging' is not configured; add [environments.staging] to ebami.toml "
        "(configured: prod)"
    )


def test_environment_lists_and_maps(tmp_path: Path) -> None:
    environ = {"EBAMI_DRIVERS": "fluentd, none", "EBAMI_TAGS": "team=web,cost=42"}
    settings = load_settings(None, environ, {}, cwd=tmp_path)
    assert settings.drivers == ["fluentd", "none"]
    assert settings.tags == {"team": "web", "cost": "42"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'relase = "2017.09"\n',
            "ebami.toml: unknown key 'relase'; known keys: profile, region, platform, release, "
            "drivers, instance_type, subnet_id, instance_profile, tags, environments",
        ),
        (
            "release = 2017.09\n",
            "ebami.toml: key 'release': input should be a valid string (got float 2017.09); "
            'write it in quotes: release = "2017.09"',
        ),
        (
            'drivers = "fluentd"\n',
            "ebami.toml: key 'drivers': input should be a valid list (got str 'fluentd')",
        ),
        (
            '[environments.prod]\napplication = "shop"\n',
            "ebami.toml: missing key 'environments.prod.environment'",
        ),
        (
            '[environments.prod]\napplication = "shop"\nenvironment = "p"\ncolour = "blue"\n',
            "ebami.toml: unknown key 'environments.prod.colour'; known keys: profile, region, "
            "platform, release, drivers, instance_type, subnet_id, instance_profile, tags, "
            "environments",
        ),
    ],
)
def test_file_errors_name_the_key_and_the_file(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_settings(None, {}, {}, cwd=tmp_path)
    assert str(exc.value) == message


def test_invalid_toml(tmp_path: Path) -> None:
    write(tmp_path, "release = \n")
    with pytest.raises(ConfigError, match=r"^ebami.toml: not valid TOML: "):
        load_settings(None, {}, {}, cwd=tmp_path)


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(tmp_path / "nope.toml", {}, {}, cwd=tmp_path)
    assert str(exc.value) == (
        f"settings file {tmp_path / 'nope.toml'} does not exist; check --config or EBAMI_CONFIG"
    )


def test_explicit_file_from_environment_is_named_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "other.toml"
    path.write_text("tags = 3\n")
    with pytest.raises(ConfigError) as exc:
        load_settings(None, {"EBAMI_CONFIG": str(path)}, {}, cwd=tmp_path / "elsewhere")
    assert str(exc.value).startswith(f"{path}: key 'tags': input should be a valid dictionary")


def test_bad_environment_tags(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        load_settings(None, {"EBAMI_TAGS": "team"}, {}, cwd=tmp_path)
    assert str(exc.value) == "EBAMI_TAGS: 'team' is not KEY=VALUE; write KEY=VALUE,KEY2=VALUE2"
