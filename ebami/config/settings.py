"""ebami's settings: `ebami.toml`, then `EBAMI_*` environment variables, then flags (flags win).

Each layer is validated on its own so that an error names the key and where it came from (the
file, the variable or the flag): unknown keys, wrong types, and the formats of AWS names and ids
(`ebami.config.formats`), all before any AWS call.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import msgspec

from ebami.config import formats
from ebami.config.errors import FormatError, config_error, names_one_key
from ebami.core.errors import ConfigError, InputError
from ebami.image.drivers import DEFAULT_DRIVERS, parse_drivers
from ebami.image.platforms import DEFAULT_PLATFORM, Platform, resolve_platform

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

SETTINGS_FILE = "ebami.toml"
CONFIG_ENV_VAR = "EBAMI_CONFIG"

# A CLI should fail fast on an endpoint that does not answer. A TCP handshake with an AWS
# endpoint takes well under a second, so 5 s allows for a slow network; the Describe and List
# calls ebami makes answer within a few seconds, so 30 s allows for a slow page. botocore's own
# 60 s read timeout, tried 3 times, left a command silent for three minutes.
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 30.0
# Beyond these the endpoint is not slow but gone: refuse a typo such as 3000 for 30.
MAX_CONNECT_TIMEOUT = 60.0
MAX_READ_TIMEOUT = 300.0
# Seconds health must hold Green after an environment update (ebami apply).
DEFAULT_SETTLE = 60.0
MAX_SETTLE = 3600.0
# Where a channel's AMI id lives; the placeholders are filled per platform and release.
DEFAULT_CHANNEL_PARAMETER = "/ebami/{platform}/{release}/{channel}"

# Settings that can come from the environment, and how a variable's text becomes a value.
_ENV_LIST_KEYS = {"drivers", "copy_to", "share_with", "ssh_cidrs"}
_ENV_MAP_KEYS = {"tags"}
_ENV_BOOL_KEYS = {"encrypt", "ssm_agent"}
_ENV_FLOAT_KEYS = {"connect_timeout", "read_timeout", "settle"}
_ENV_KEYS = (
    "profile", "region", "platform", "release", "drivers",
    "instance_type", "subnet_id", "instance_profile", "ssh_cidrs", "ssm_agent",
    "encrypt", "kms_key_id", "copy_to", "share_with", "tags",
    "connect_timeout", "read_timeout", "settle", "channel_parameter",
)  # fmt: skip
_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")
# Flags whose name is not "--" + the key with dashes (and a boolean a flag set to false was set
# by the flag's --no- form).
_FLAG_NAMES = {"ssh_cidrs": "--ssh-cidr"}


# What each key's value must look like. Checked as each layer is read, so that an error names
# the flag, the variable or the file key that gave the value, before any AWS call.
_FORMATS: dict[str, Callable[[Any], Any]] = {
    "profile": formats.check_not_blank,
    "region": formats.check_region,
    "instance_type": formats.check_instance_type,
    "subnet_id": formats.check_subnet_id,
    "kms_key_id": formats.check_kms_key_id,
    "ssh_cidrs": formats.check_ssh_cidrs,
    "copy_to": formats.check_copy_regions,
    "share_with": formats.check_account_ids,
    "connect_timeout": partial(formats.check_seconds, maximum=MAX_CONNECT_TIMEOUT),
    "read_timeout": partial(formats.check_seconds, maximum=MAX_READ_TIMEOUT),
    "settle": partial(formats.check_seconds, maximum=MAX_SETTLE),
    "channel_parameter": formats.check_channel_parameter,
}


def _check(key: str, value: Any) -> Any:
    try:
        return _FORMATS[key](value)
    except ValueError as exc:
        raise FormatError(key, str(exc)) from None


def _check_groups(
    groups: Mapping[str, list[str]], environments: Mapping[str, EnvironmentTarget]
) -> None:
    """`[groups]`: each group lists environments (names of [environments.NAME] or of
    environments), none blank, none twice; then each a key of `environments` or a name an
    Elastic Beanstalk environment can have."""
    for group, names in groups.items():
        where = f"groups.{group}"
        if not group.strip():
            raise FormatError("groups", "a group has a blank name; name it, such as web")
        if not names:
            raise FormatError(
                where, "the group lists no environment; list [environments.NAME] keys or names"
            )
        for name in names:
            if not name.strip():
                raise FormatError(where, "a blank environment name; remove it")
            if names.count(name) > 1:
                raise FormatError(where, f"{name!r} is listed twice; list each environment once")
    for group, names in groups.items():
        for name in names:
            if name not in environments:
                try:
                    formats.check_environment_name(name, or_key=True)
                except ValueError as exc:
                    raise FormatError(f"groups.{group}", str(exc)) from None


def named_once(named: Iterable[tuple[str, str]]) -> list[str]:
    """The environment names of a command, in their order, each given with what named it
    (`--env`, `group web`): the one rule of every command that takes several (apply, check,
    status) is that an environment is named once."""
    seen: dict[str, str] = {}
    for name, source in named:
        if name in seen:
            by = f"by {seen[name]}" + (f" and by {source}" if source != seen[name] else " twice")
            raise InputError(f"{name} is named twice ({by}): name each environment once")
        seen[name] = source
    return list(seen)


class EnvironmentTarget(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A named Elastic Beanstalk environment (`[environments.prod]`), for `--env prod`."""

    application: str
    environment: str
    region: str | None = None

    def __post_init__(self) -> None:
        if self.region is not None:
            _check("region", self.region)
        try:
            formats.check_environment_name(self.environment)
        except ValueError as exc:
            raise FormatError("environment", str(exc)) from None


class Settings(msgspec.Struct, forbid_unknown_fields=True, frozen=True, dict=True):
    """Everything ebami can be configured with; defaults apply to what no layer sets."""

    profile: str | None = None
    region: str | None = None
    platform: str = DEFAULT_PLATFORM.alias
    release: str | None = None
    drivers: list[str] = msgspec.field(default_factory=lambda: list(DEFAULT_DRIVERS))
    instance_type: str = "t3.micro"
    subnet_id: str | None = None
    instance_profile: str | None = None
    ssh_cidrs: list[str] = msgspec.field(default_factory=list)
    ssm_agent: bool = True
    encrypt: bool = False
    kms_key_id: str | None = None
    copy_to: list[str] = msgspec.field(default_factory=list)
    share_with: list[str] = msgspec.field(default_factory=list)
    tags: dict[str, str] = msgspec.field(default_factory=dict)
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    # `ebami apply`: how long health must hold Green after an update before it counts.
    settle: float = DEFAULT_SETTLE
    environments: dict[str, EnvironmentTarget] = msgspec.field(default_factory=dict)
    # `ebami promote` and `apply --channel`: the SSM parameter that holds a channel's AMI id.
    channel_parameter: str = DEFAULT_CHANNEL_PARAMETER
    # `ebami apply --group NAME`: named lists of environments (`[groups] web = ["a", "b"]`).
    groups: dict[str, list[str]] = msgspec.field(default_factory=dict)

    # Where each key's value came from, set by `load_settings` in the instance's __dict__ (a
    # ClassVar is no field, so no settings file can set it); no entry: the default.
    _sources: ClassVar[Mapping[str, str]] = {}

    def __post_init__(self) -> None:
        """Check each key's format (in the order of the fields), keeping the value normalised.

        A copy to the region the AMI is built in is no copy (Packer skips it too): drop it, so
        that naming it leaves the bake key alone. A region that only AWS_REGION or the profile
        gives is unknown here; Packer still skips it."""
        for key in self.__struct_fields__:
            value = getattr(self, key)
            if key in _FORMATS and value is not None:
                msgspec.structs.force_setattr(self, key, _check(key, value))
        _check_groups(self.groups, self.environments)
        if self.region and self.region in self.copy_to:
            copies = [region for region in self.copy_to if region != self.region]
            msgspec.structs.force_setattr(self, "copy_to", copies)

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> Settings:
        """A shallow copy with `update`'s keys changed, unchecked, and the same sources."""
        copied = copy.copy(self)
        copied.__dict__.update(self.__dict__)
        for key, value in (update or {}).items():
            msgspec.structs.force_setattr(copied, key, value)
        return copied

    def source_of(self, key: str) -> str:
        """Where `key`'s value came from: a file, an environment variable, a flag or 'default'."""
        return self._sources.get(key, "default")

    def named(self, key: str) -> str:
        """How an error names where `key`'s value came from: the flag or the variable, the
        file and the key (`ebami.toml: key 'channel_parameter'`), or the key (its default)."""
        source = self.source_of(key)
        if source == "default":
            return key
        return source if names_one_key(source) else f"{source}: key {key!r}"

    @contextmanager
    def blame(self, key: str) -> Iterator[None]:
        """Prefix an InputError raised while interpreting `key` with where the value came from."""
        try:
            yield
        except InputError as exc:
            source = self.source_of(key)
            if source == "default":
                raise
            where = source if names_one_key(source) else f"{source}: {key}"
            raise InputError(f"{where}: {exc.message}") from exc

    def resolved_platform(self) -> Platform:
        with self.blame("platform"):
            return resolve_platform(self.platform)

    def resolved_drivers(self) -> tuple[str, ...]:
        with self.blame("drivers"):
            return parse_drivers(self.drivers)

    def resolved_release(self, platform: Platform) -> str | None:
        """The release, checked against `platform`'s OS family; None when not set."""
        with self.blame("release"):
            return platform.validate_release(self.release) if self.release else None

    def environment_target(self, name: str) -> tuple[Settings, str | None, str]:
        """For `--env NAME`: `[environments.NAME]` (its region unless --region gave one) as
        (settings, application, environment name); otherwise NAME is the environment's own
        name, its application unknown, refused unless an environment can have it. The names
        of `[environments.NAME]` and `[groups]` were checked when the settings loaded."""
        configured = self.environments.get(name)
        if configured is None:
            try:
                formats.check_environment_name(name, or_key=True)
            except ValueError as exc:
                raise InputError(f"--env: {exc}") from None
            return self, None, name
        settings = self
        if configured.region and self.source_of("region") != "--region":
            settings = self.model_copy(update={"region": configured.region})
        return settings, configured.application, configured.environment


def load_settings(
    config_file: Path | None,
    environ: Mapping[str, str],
    flags: Mapping[str, Any],
    *,
    cwd: Path | None = None,
) -> Settings:
    """Merge the settings file, `EBAMI_*` variables and flags (None = not given)."""
    layers: list[tuple[dict[str, Any], dict[str, str]]] = []
    folder = cwd or Path.cwd()
    path = _settings_path(config_file, environ, folder)
    if path is not None:
        shown = SETTINGS_FILE if path == folder / SETTINGS_FILE else str(path)
        data = _read_toml(path, shown)
        _validate(data, lambda key: shown)
        layers.append((data, dict.fromkeys(data, shown)))

    env_data, env_sources = _from_environment(environ)
    _validate(env_data, lambda key: env_sources[key])
    layers.append((env_data, env_sources))

    flag_data = {key: value for key, value in flags.items() if value is not None}
    flag_sources = {key: _flag_name(key, value) for key, value in flag_data.items()}
    _validate(flag_data, lambda key: flag_sources[key])
    layers.append((flag_data, flag_sources))

    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for data, origin in layers:
        merged.update(data)
        sources.update(origin)
    settings = msgspec.convert(merged, Settings, strict=True)
    settings.__dict__["_sources"] = sources
    # The platform and the release may come from different layers, so they are checked once
    # merged: every command refuses them, naming where each came from, before any AWS call.
    settings.resolved_release(settings.resolved_platform())
    return settings


def _settings_path(config_file: Path | None, environ: Mapping[str, str], cwd: Path) -> Path | None:
    explicit = config_file or (
        Path(environ[CONFIG_ENV_VAR]) if environ.get(CONFIG_ENV_VAR) else None
    )
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(
                f"settings file {explicit} does not exist; check --config or {CONFIG_ENV_VAR}"
            )
        return explicit
    default = cwd / SETTINGS_FILE
    return default if default.is_file() else None


def _read_toml(path: Path, shown: str) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
            return data
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{shown}: not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{shown}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
            "TOML files must be saved as UTF-8"
        ) from exc
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read: {exc.strerror}") from exc


def _from_environment(environ: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    data: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key in _ENV_KEYS:
        name = "EBAMI_" + key.upper()
        text = environ.get(name)
        if text is None or text == "":
            continue
        value: Any = text
        if key in _ENV_LIST_KEYS:
            value = [item.strip() for item in text.split(",")]
        elif key in _ENV_MAP_KEYS:
            value = _parse_pairs(text, name)
        elif key in _ENV_BOOL_KEYS:
            value = _parse_bool(text, name)
        elif key in _ENV_FLOAT_KEYS:
            value = _parse_seconds(text, name)
        data[key] = value
        sources[key] = name
    return data, sources


def _flag_name(key: str, value: Any) -> str:
    """The flag the user typed to set `key`, for error messages."""
    if value is False:
        return "--no-" + key.replace("_", "-")
    return _FLAG_NAMES.get(key, "--" + key.replace("_", "-"))


def _parse_bool(text: str, source: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise InputError(
        f"{source}: {text!r} is not a yes or no; accepted: {', '.join(_TRUE + _FALSE)}"
    )


def _parse_seconds(text: str, source: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InputError(f"{source}: {text!r} is not a number of seconds, such as 30") from None


def _parse_pairs(text: str, source: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"{source}: {item!r} is not KEY=VALUE; write KEY=VALUE,KEY2=VALUE2")
        pairs[key.strip()] = value.strip()
    return pairs


def _validate(data: dict[str, Any], source_of: Callable[[str], str]) -> None:
    try:
        msgspec.convert(data, Settings, strict=True)
    except msgspec.ValidationError as exc:
        raise config_error(exc, data, Settings, source_of) from None
