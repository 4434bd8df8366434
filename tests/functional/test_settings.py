from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ebami.config.settings import load_settings
from ebami.core.errors import ConfigError, InputError

KNOWN_KEYS = (
    "profile, region, platform, release, drivers, instance_type, subnet_id, instance_profile, "
    "ssh_cidrs, ssm_agent, encrypt, kms_key_id, copy_to, share_with, tags, connect_timeout, "
    "read_timeout, settle, environments, channel_parameter, groups"
)
AL1_RELEASES = (
    "2011.09, 2012.03, 2012.09, 2013.03, 2013.09, 2014.03, 2014.09, 2015.03, 2015.09, 2016.03, "
    "2016.09, 2017.03, 2017.09, 2018.03"
)
KMS_KEY = "1234abcd-12ab-34cd-56ef-1234567890ab"


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
    _, application, environment = settings.environment_target("prod")
    assert (application, environment) == ("shop", "shop-prod")
    # An environment not configured is taken as Elastic Beanstalk's own name.
    assert settings.environment_target("staging")[1:] == (None, "staging")


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
            f"ebami.toml: unknown key 'relase'; known keys: {KNOWN_KEYS}",
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
            '[environments.prod]\napplication = "shop"\nenvironment = "shop-prod"\n'
            'colour = "blue"\n',
            f"ebami.toml: unknown key 'environments.prod.colour'; known keys: {KNOWN_KEYS}",
        ),
        # A table's key is named too: the first entry that is wrong.
        (
            'tags = {team = "web", cost = 42, size = 3}\n',
            "ebami.toml: key 'tags.cost': input should be a valid string (got int 42); "
            'write it in quotes: cost = "42"',
        ),
        (
            '[environments.prod]\napplication = "shop"\nenvironment = "shop-prod"\n'
            '[environments.test]\napplication = "shop"\nenvironment = "shop-test"\nregion = 5\n',
            "ebami.toml: key 'environments.test.region': input should be a valid string "
            '(got int 5); write it in quotes: region = "5"',
        ),
        (
            "environments = { prod = 3 }\n",
            "ebami.toml: key 'environments.prod': input should be a valid dictionary (got int 3)",
        ),
        (
            "connect_timeout = true\n",
            "ebami.toml: key 'connect_timeout': input should be a valid number (got bool True)",
        ),
        # Where ebami keeps the sources is no key a file can set.
        ("_sources = {}\n", f"ebami.toml: unknown key '_sources'; known keys: {KNOWN_KEYS}"),
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


def test_artifact_options_from_each_layer_name_their_source(tmp_path: Path) -> None:
    write(
        tmp_path,
        'encrypt = true\nkms_key_id = "alias/ebami"\ncopy_to = ["eu-west-1"]\n'
        'ssh_cidrs = ["203.0.113.0/24"]\nconnect_timeout = 2\n',
    )
    environ = {
        "EBAMI_SHARE_WITH": "123456789012, 210987654321",
        "EBAMI_SSM_AGENT": "no",
        "EBAMI_READ_TIMEOUT": "12.5",
        "EBAMI_COPY_TO": "eu-central-1",
    }
    flags = {"copy_to": ["us-west-2", "ap-southeast-5"], "kms_key_id": None, "encrypt": None}
    settings = load_settings(None, environ, flags, cwd=tmp_path)
    assert settings.encrypt is True
    assert settings.kms_key_id == "alias/ebami"
    assert settings.copy_to == ["us-west-2", "ap-southeast-5"]
    assert settings.share_with == ["123456789012", "210987654321"]
    assert settings.ssm_agent is False
    assert settings.ssh_cidrs == ["203.0.113.0/24"]
    assert (settings.connect_timeout, settings.read_timeout) == (2.0, 12.5)
    assert {
        key: settings.source_of(key)
        for key in ("encrypt", "kms_key_id", "copy_to", "share_with", "ssm_agent", "read_timeout")
    } == {
        "encrypt": "ebami.toml",
        "kms_key_id": "ebami.toml",
        "copy_to": "--copy-to",
        "share_with": "EBAMI_SHARE_WITH",
        "ssm_agent": "EBAMI_SSM_AGENT",
        "read_timeout": "EBAMI_READ_TIMEOUT",
    }


def test_defaults_of_the_artifact_options(tmp_path: Path) -> None:
    settings = load_settings(None, {}, {}, cwd=tmp_path)
    assert (settings.encrypt, settings.kms_key_id, settings.ssm_agent) == (False, None, True)
    assert (settings.copy_to, settings.share_with, settings.ssh_cidrs) == ([], [], [])
    assert (settings.connect_timeout, settings.read_timeout) == (5.0, 30.0)
    assert settings.source_of("encrypt") == "default"


@pytest.mark.parametrize(
    ("flags", "key", "source"),
    [
        ({"ssh_cidrs": ["203.0.113.0/24"]}, "ssh_cidrs", "--ssh-cidr"),
        ({"ssm_agent": False}, "ssm_agent", "--no-ssm-agent"),
        ({"ssm_agent": True}, "ssm_agent", "--ssm-agent"),
        ({"encrypt": True}, "encrypt", "--encrypt"),
        ({"encrypt": False}, "encrypt", "--no-encrypt"),
        ({"kms_key_id": KMS_KEY}, "kms_key_id", "--kms-key-id"),
        ({"share_with": ["123456789012"]}, "share_with", "--share-with"),
    ],
)
def test_flags_are_named_as_the_user_typed_them(
    tmp_path: Path, flags: dict[str, object], key: str, source: str
) -> None:
    assert load_settings(None, {}, flags, cwd=tmp_path).source_of(key) == source


@pytest.mark.parametrize(
    ("text", "value"),
    [("true", True), ("1", True), ("YES", True), ("false", False), ("0", False), ("No", False)],
)
def test_boolean_variables(tmp_path: Path, text: str, value: bool) -> None:
    assert load_settings(None, {"EBAMI_ENCRYPT": text}, {}, cwd=tmp_path).encrypt is value


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"EBAMI_ENCRYPT": "maybe"},
            "EBAMI_ENCRYPT: 'maybe' is not a yes or no; accepted: true, 1, yes, false, 0, no",
        ),
        (
            {"EBAMI_READ_TIMEOUT": "soon"},
            "EBAMI_READ_TIMEOUT: 'soon' is not a number of seconds, such as 30",
        ),
        (
            {"EBAMI_CONNECT_TIMEOUT": "0"},
            "EBAMI_CONNECT_TIMEOUT: 0 is not accepted; give seconds above 0 and at most 60",
        ),
        (
            {"EBAMI_READ_TIMEOUT": "3000"},
            "EBAMI_READ_TIMEOUT: 3000 is not accepted; give seconds above 0 and at most 300",
        ),
        (
            {"EBAMI_REGION": "moon-1"},
            "EBAMI_REGION: 'moon-1' is not an AWS region name; accepted: an AWS region name "
            "such as us-east-1, eu-central-2 or us-gov-west-1",
        ),
        (
            {"EBAMI_COPY_TO": "eu-west-1,,us-east-2"},
            "EBAMI_COPY_TO: '' is not an AWS region name; accepted: an AWS region name such as "
            "us-east-1, eu-central-2 or us-gov-west-1",
        ),
        (
            {"EBAMI_SHARE_WITH": "1234"},
            "EBAMI_SHARE_WITH: '1234' is not an AWS account id; accepted: 12 digits such as "
            "123456789012",
        ),
        (
            {"EBAMI_SSH_CIDRS": "10.0.0.0/33"},
            "EBAMI_SSH_CIDRS: '10.0.0.0/33' is not a CIDR block; accepted: an IPv4 block such "
            "as 203.0.113.0/24 (prefix 0 to 32) or one address such as 203.0.113.7",
        ),
        (
            {"EBAMI_SUBNET_ID": "zzz"},
            "EBAMI_SUBNET_ID: 'zzz' is not a subnet id; accepted: subnet- and 8 or 17 hex "
            "digits, such as subnet-0123456789abcdef0",
        ),
        (
            {"EBAMI_PROFILE": " "},
            "EBAMI_PROFILE: ' ' is empty; give a name, or leave it unset",
        ),
        (
            {"EBAMI_RELEASE": "abc"},
            "EBAMI_RELEASE: release 'abc' is not a release of multicontainer-docker (Amazon "
            f"Linux 1); accepted: {AL1_RELEASES}",
        ),
        (
            {"EBAMI_PLATFORM": "ecs-al2", "EBAMI_RELEASE": "2017.09"},
            "EBAMI_RELEASE: release '2017.09' is an Amazon Linux 1 release, but ecs-al2 runs "
            "Amazon Linux 2; accepted: 2",
        ),
    ],
)
def test_variables_in_the_wrong_format_are_named(
    tmp_path: Path, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(InputError) as exc:
        load_settings(None, environ, {}, cwd=tmp_path)
    assert str(exc.value) == message


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"region": "moon-1"}, "--region: 'moon-1' is not an AWS region name"),
        ({"copy_to": ["eu-west-1", "moon-1"]}, "--copy-to: 'moon-1' is not an AWS region name"),
        ({"share_with": ["12345678901x"]}, "--share-with: '12345678901x' is not an AWS account id"),
        ({"ssh_cidrs": ["bogus"]}, "--ssh-cidr: 'bogus' is not a CIDR block"),
        ({"kms_key_id": "bogus"}, "--kms-key-id: 'bogus' is not a KMS key"),
        ({"instance_type": ""}, "--instance-type: '' is not an EC2 instance type"),
        ({"subnet_id": "zzz"}, "--subnet-id: 'zzz' is not a subnet id"),
        ({"profile": ""}, "--profile: '' is empty"),
        ({"release": "abc"}, "--release: release 'abc' is not a release of"),
    ],
)
def test_flags_in_the_wrong_format_are_named(
    tmp_path: Path, flags: dict[str, object], message: str
) -> None:
    with pytest.raises(InputError) as exc:
        load_settings(None, {}, flags, cwd=tmp_path)
    assert str(exc.value).startswith(message)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'kms_key_id = "bogus"\n',
            "ebami.toml: key 'kms_key_id': 'bogus' is not a KMS key; accepted: a key id",
        ),
        ("connect_timeout = -1\n", "ebami.toml: key 'connect_timeout': -1 is not accepted"),
        ('encrypt = "yes"\n', "ebami.toml: key 'encrypt': input should be a valid boolean"),
        (
            '[environments.prod]\napplication = "a"\nenvironment = "shop-prod"\n'
            'region = "moon-1"\n',
            "ebami.toml: key 'environments.prod.region': 'moon-1' is not an AWS region name",
        ),
        (
            '[environments.a]\napplication = "a"\nenvironment = "shop-a"\n'
            '[environments."b.c"]\napplication = "a"\nenvironment = "shop-b"\nregion = "moon-1"\n',
            "ebami.toml: key 'environments.b.c.region': 'moon-1' is not an AWS region name",
        ),
    ],
)
def test_file_keys_in_the_wrong_format_are_named(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_settings(None, {}, {}, cwd=tmp_path)
    assert str(exc.value).startswith(message)


def test_platform_and_release_from_different_layers_are_checked_together(tmp_path: Path) -> None:
    write(tmp_path, 'release = "2023"\n')
    with pytest.raises(InputError) as exc:
        load_settings(None, {}, {"platform": "ecs-al2"}, cwd=tmp_path)
    assert str(exc.value) == (
        "ebami.toml: release: release '2023' is an Amazon Linux 2023 release, but ecs-al2 runs "
        "Amazon Linux 2; accepted: 2"
    )
    settings = load_settings(None, {}, {"platform": "ecs-al2023"}, cwd=tmp_path)
    assert settings.resolved_release(settings.resolved_platform()) == "2023"


def test_copies_and_shares_are_normalised(tmp_path: Path) -> None:
    write(tmp_path, 'region = "us-east-1"\n')
    flags = {
        "copy_to": ["eu-west-1", "us-east-1", "eu-west-1", "us-west-2"],
        "share_with": ["123456789012", "123456789012"],
        "ssh_cidrs": ["203.0.113.7", "203.0.113.7/32"],
    }
    settings = load_settings(None, {}, flags, cwd=tmp_path)
    # The build region itself is no copy (Packer skips it), so the bake key does not see it.
    assert settings.copy_to == ["eu-west-1", "us-west-2"]
    assert settings.share_with == ["123456789012"]
    assert settings.ssh_cidrs == ["203.0.113.7/32"]


def test_a_settings_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    (tmp_path / "ebami.toml").write_bytes('region = "eu-west-1" # caf\xe9\n'.encode("latin-1"))
    with pytest.raises(ConfigError) as exc:
        load_settings(None, {}, {}, cwd=tmp_path)
    assert str(exc.value) == (
        "ebami.toml: not UTF-8 text (byte 0xe9 at offset 26); TOML files must be saved as UTF-8"
    )


def test_a_copy_keeps_the_sources_and_checks_nothing(tmp_path: Path) -> None:
    write(tmp_path, 'region = "us-east-1"\ncopy_to = ["eu-west-1"]\n')
    settings = load_settings(None, {}, {}, cwd=tmp_path)
    moved = settings.model_copy(update={"region": "eu-west-1"})
    assert (moved.region, moved.copy_to) == ("eu-west-1", ["eu-west-1"])
    assert (moved.source_of("region"), moved.source_of("platform")) == ("ebami.toml", "default")
    assert settings.region == "us-east-1"


def test_settings_load_no_pydantic() -> None:
    code = (
        "import sys, ebami.config.settings; "
        "print(any(m.startswith('pydantic') for m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


ENVIRONMENT_NAME_ACCEPTED = (
    "accepted: 4 to 40 letters, digits and hyphens, not starting or ending with a hyphen, "
    "such as shop-prod"
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[environments.web]\napplication = "shop"\nenvironment = ""\n',
            "ebami.toml: key 'environments.web.environment': '' is not an Elastic Beanstalk "
            f"environment name; {ENVIRONMENT_NAME_ACCEPTED}",
        ),
        (
            '[environments.prod]\napplication = "shop"\nenvironment = "shop-prod"\n'
            '[environments.web]\napplication = "shop"\nenvironment = "shop web"\n',
            "ebami.toml: key 'environments.web.environment': 'shop web' is not an Elastic "
            f"Beanstalk environment name; {ENVIRONMENT_NAME_ACCEPTED}",
        ),
        (
            '[groups]\nweb = ["shop-web", "web"]\n',
            "ebami.toml: key 'groups.web': 'web' is neither an [environments.NAME] of the "
            "settings nor an Elastic Beanstalk environment name; accepted: a configured NAME, or "
            "4 to 40 letters, digits and hyphens, not starting or ending with a hyphen, such as "
            "shop-prod",
        ),
    ],
)
def test_environment_names_elastic_beanstalk_refuses_are_refused_on_load(
    tmp_path: Path, text: str, message: str
) -> None:
    write(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_settings(None, {}, {}, cwd=tmp_path)
    assert str(exc.value) == message


def test_a_short_key_names_the_environment_it_configures(tmp_path: Path) -> None:
    write(
        tmp_path,
        '[environments.web]\napplication = "shop"\nenvironment = "shop-web"\n'
        '[groups]\nall = ["web", "shop-api"]\n',
    )
    settings = load_settings(None, {}, {}, cwd=tmp_path)
    assert settings.environment_target("web")[1:] == ("shop", "shop-web")
    assert settings.environment_target("shop-api")[1:] == (None, "shop-api")
    with pytest.raises(InputError) as exc:
        settings.environment_target("api")
    assert str(exc.value).startswith("--env: 'api' is neither an [environments.NAME]")


SSM_RESERVED = "starts with aws or ssm, which SSM reserves (any case, /aws/ too); pick another name"


@pytest.mark.parametrize(
    ("environ", "text", "message"),
    [
        (
            {},
            'channel_parameter = "/aws/{channel}"\n',
            "ebami.toml: key 'channel_parameter': '/aws/{channel}' gives parameter names such as "
            f"'/aws/stable': '/aws/stable' {SSM_RESERVED}, such as "
            "/ebami/{platform}/{release}/{channel}",
        ),
        (
            {"EBAMI_CHANNEL_PARAMETER": "/SSM-amis/{platform}/{channel}"},
            "",
            "EBAMI_CHANNEL_PARAMETER: '/SSM-amis/{platform}/{channel}' gives parameter names "
            "such as '/SSM-amis/multicontainer-docker/stable': '/SSM-amis/multicontainer-docker/"
            f"stable' {SSM_RESERVED}, such as /ebami/{{platform}}/{{release}}/{{channel}}",
        ),
        (
            {"EBAMI_CHANNEL_PARAMETER": "/" + "l/" * 15 + "{channel}"},
            "",
            "EBAMI_CHANNEL_PARAMETER: '/" + "l/" * 15 + "{channel}' gives parameter names such as "
            "'/" + "l/" * 15 + "stable': '/" + "l/" * 15 + "stable' has 16 levels; SSM allows 15",
        ),
        (
            {},
            'channel_parameter = "/ebami/{channel} x"\n',
            "ebami.toml: key 'channel_parameter': '/ebami/{channel} x' gives parameter names such "
            "as '/ebami/stable x': '/ebami/stable x' is not an SSM parameter name; accepted: "
            "letters, digits and _ . - / only (no spaces), such as "
            "/ebami/{platform}/{release}/{channel}",
        ),
        (
            {},
            'channel_parameter = "/ebami/../{channel}"\n',
            "ebami.toml: key 'channel_parameter': '/ebami/../{channel}' gives parameter names "
            "such as '/ebami/../stable': '/ebami/../stable' has a level of only dots ('..'), "
            "which reads as a relative path; give each level a name",
        ),
    ],
)
def test_a_channel_parameter_ssm_would_refuse_is_refused_on_load(
    tmp_path: Path, environ: dict[str, str], text: str, message: str
) -> None:
    write(tmp_path, text)
    with pytest.raises(InputError) as exc:
        load_settings(None, environ, {}, cwd=tmp_path)
    assert str(exc.value) == message
