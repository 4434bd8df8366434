"""What each ecs-init version reads and defaults to, and the agent it starts.

ecs-init reads `/var/lib/ecs/ecs.config` only from 1.25.0-1 (`LoadEnvVars`,
`loadCustomInstanceEnvVars`; ecs-init CHANGELOG). When no line sets
`ECS_AVAILABLE_LOGGING_DRIVERS`, ecs-init passes its own default, which depends on its version
(`ecs-init/docker/docker.go`, `getContainerConfig`; CHANGELOG.md): none before 1.5.0, then
1.5.0-1 json-file+syslog, 1.9.0-1 adds awslogs, 1.15.0-4 adds none, 1.45.0-1 adds fluentd.
ecs-init caches and starts the agent of its own version, whose default when the variable yields
no driver is `["json-file","none"]` from 1.15.0 and `["json-file"]` before
(`agent/config/config_linux.go`, `config_unix.go` in older agents).
"""

from __future__ import annotations

from dataclasses import dataclass

from ebami.image.drivers import Version, parse_version

# The bare agent's default (agent/config/config_linux.go) from agent 1.15.0; before, json-file.
AGENT_FALLBACK_DRIVERS: tuple[str, ...] = ("json-file", "none")
AGENT_FALLBACK_BEFORE_1_15: tuple[str, ...] = ("json-file",)
# ecs-init's default by version (ecs-init/docker/docker.go, getContainerConfig; CHANGELOG.md):
# 1.5.0-1 json-file+syslog, 1.9.0-1 adds awslogs, 1.15.0-4 adds none, 1.45.0-1 adds fluentd.
ECS_INIT_DEFAULTS: tuple[tuple[Version, tuple[str, ...]], ...] = (
    ((1, 45, 0), ("json-file", "syslog", "awslogs", "fluentd", "none")),
    ((1, 15, 0, 4), ("json-file", "syslog", "awslogs", "none")),
    ((1, 9, 0), ("json-file", "syslog", "awslogs")),
    ((1, 5, 0), ("json-file", "syslog")),
)
ECS_INIT_DEFAULT_DRIVERS: tuple[str, ...] = ECS_INIT_DEFAULTS[1][1]
ECS_INIT_1_45_DEFAULT_DRIVERS: tuple[str, ...] = ECS_INIT_DEFAULTS[0][1]
# ecs-init reads /var/lib/ecs/ecs.config from this version on (ecs-init CHANGELOG, 1.25.0-1).
INSTANCE_CONFIG_SINCE: Version = (1, 25, 0)


@dataclass(frozen=True)
class EcsInitRules:
    """What an installed ecs-init version reads and defaults to (None: unknown version)."""

    version: str | None

    @property
    def parsed(self) -> Version | None:
        return parse_version(self.version)

    @property
    def reads_instance_config(self) -> bool:
        parsed = self.parsed
        return parsed is None or parsed >= INSTANCE_CONFIG_SINCE

    @property
    def default_drivers(self) -> tuple[str, ...] | None:
        """ecs-init's default; None when it sets none (before 1.5.0). Unknown versions get the
        pre-1.45 list, so that fluentd is never assumed without evidence."""
        parsed = self.parsed
        if parsed is None:
            return ECS_INIT_DEFAULT_DRIVERS
        for since, drivers in ECS_INIT_DEFAULTS:
            if parsed >= since:
                return drivers
        return None

    @property
    def agent_version(self) -> Version | None:
        """The agent ecs-init caches and starts: the same version ("Cache Agent version")."""
        parsed = self.parsed
        return parsed[:3] if parsed else None

    @property
    def agent_fallback(self) -> tuple[str, ...]:
        agent = self.agent_version
        if agent is not None and agent < (1, 15, 0):
            return AGENT_FALLBACK_BEFORE_1_15
        return AGENT_FALLBACK_DRIVERS
