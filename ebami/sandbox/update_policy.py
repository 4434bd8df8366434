"""What an environment's update policy says, and which policies Elastic Beanstalk refuses.

`aws:autoscaling:updatepolicy:rollingupdate` says how an update replaces instances: all at once
(rolling updates disabled), in batches by time or by health, or immutable (`UpdatePolicy`).
`check_policy` refuses the option values EB refuses, in EB's words, before an update changes
anything; how an update then advances is `ebami.sandbox.rollout`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ebami.sandbox.environments import DEFAULT_OPTIONS, ROLLING_UPDATE, SandboxEnvironment

ENVIRONMENT_TYPE = ("aws:elasticbeanstalk:environment", "EnvironmentType")
HEALTH_SYSTEM = ("aws:elasticbeanstalk:healthreporting:system", "SystemType")
_DURATION = re.compile(r"PT(?=\d)(\d+H)?(\d+M)?(\d+S)?")


@dataclass(frozen=True)
class UpdatePolicy:
    """What `aws:autoscaling:updatepolicy:rollingupdate` says of replacing instances."""

    kind: str  # "Disabled", "Time", "Health" or "Immutable"
    batch_size: int
    min_in_service: int

    @classmethod
    def of(cls, options: Mapping[tuple[str, str], str]) -> UpdatePolicy:
        """The policy of an environment's options (checked by `check_policy`)."""

        def value(name: str) -> str:
            key = (ROLLING_UPDATE, name)
            return options.get(key, DEFAULT_OPTIONS[key])

        kind = value("RollingUpdateType")
        # Immutable stands on its own; Time and Health need rolling updates enabled.
        if kind != "Immutable" and value("RollingUpdateEnabled") != "true":
            kind = "Disabled"
        return cls(kind, int(value("MaxBatchSize")), int(value("MinInstancesInService")))


class PolicyRefused(Exception):
    """Option values Elastic Beanstalk refuses; `configuration` marks the refusals it reports
    as ConfigurationValidationException rather than InvalidParameterValue."""

    def __init__(self, message: str, *, configuration: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.configuration = configuration


def check_policy(env: SandboxEnvironment) -> None:
    """Refuse the environment's options (as they would be after an update) the way EB does."""
    for name, accepted in (
        ("RollingUpdateEnabled", ("true", "false")),
        ("RollingUpdateType", ("Time", "Health", "Immutable")),
    ):
        value = env.option_value(ROLLING_UPDATE, name)
        if value not in accepted:
            raise PolicyRefused(_invalid(name, value, f"Accepted values: {', '.join(accepted)}."))
    for name, low, high in (("MaxBatchSize", 1, 10000), ("MinInstancesInService", 0, 9999)):
        value = env.option_value(ROLLING_UPDATE, name)
        if not value.isdigit() or not low <= int(value) <= high:
            raise PolicyRefused(_invalid(name, value, f"Give a whole number from {low} to {high}."))
    for name in ("PauseTime", "Timeout"):
        value = env.option_value(ROLLING_UPDATE, name)
        if value and not _DURATION.fullmatch(value):
            raise PolicyRefused(_invalid(name, value, "Give an ISO 8601 duration such as PT5M."))
    policy = UpdatePolicy.of(env.options)
    if env.option_value(*ENVIRONMENT_TYPE) == "SingleInstance" and policy.kind in (
        "Time",
        "Health",
    ):
        # EB's wording (seen in terraform-aws-elastic-beanstalk-environment PR #119).
        raise PolicyRefused(
            "Configuration validation exception: "
            + _invalid(
                "RollingUpdateType",
                policy.kind,
                "You can't enable rolling updates for a single-instance environment.",
            ),
            configuration=True,
        )
    if policy.kind == "Immutable" and env.option_value(*HEALTH_SYSTEM) != "enhanced":
        raise PolicyRefused(
            "Configuration validation exception: Invalid option specification (Namespace: "
            f"'{ROLLING_UPDATE}', OptionName: 'RollingUpdateType'): Immutable updates require "
            "enhanced health reporting (option SystemType in namespace "
            "aws:elasticbeanstalk:healthreporting:system).",
            configuration=True,
        )


def _invalid(name: str, value: str, why: str) -> str:
    return (
        f"Invalid option value: '{value}' (Namespace: '{ROLLING_UPDATE}', OptionName: '{name}'): "
        f"{why}"
    )
