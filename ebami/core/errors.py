"""The one error hierarchy of ebami and the exit codes it maps to.

Library code raises these; only `ebami.cli.main.main` turns them into exit codes and messages.
Every message is one line that names the input or resource involved and says what to do next.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any


def one_line(text: str) -> str:
    """`text` with every run of white space (newlines included) as one space."""
    return " ".join(text.split())


class ExitCode(IntEnum):
    """Process exit codes: stable, documented in the README."""

    OK = 0
    ERROR = 1
    USAGE = 2
    AWS = 3
    NOT_FOUND = 4
    CHECK_FAILED = 5
    # The run finished (its result was printed) but could not remove all it made.
    LEFT_BEHIND = 6
    # Refused, nothing changed: an apply gate (or the environment was not Ready), a promote
    # of an AMI not verified or revoked, a revoke of an AMI not this account's.
    REFUSED = 7
    # `ebami apply`: the update failed and the environment is back on its previous AMI.
    ROLLED_BACK = 8
    # A person must look: an apply whose way back failed (or lost track), a promote/revoke that
    # left a channel naming a revoked AMI.
    NEEDS_ATTENTION = 9
    # `ebami check --exit-code`: a build is needed, or an environment drifts.
    ACTION_NEEDED = 10
    CTRL_C = 130


class EbamiError(Exception):
    """Base of every error ebami reports to the user without a traceback."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(EbamiError):
    """A value given on the command line, in the environment or in settings is not accepted."""

    exit_code = ExitCode.USAGE


class ConfigError(InputError):
    """The settings file cannot be read, or a key in it is unknown or of the wrong type."""


class AwsError(EbamiError):
    """AWS refused or failed a call; the message names the call and AWS's error code."""

    exit_code = ExitCode.AWS


_REFUSED = re.compile(
    r"not authorized to perform: ([a-z0-9-]+:[A-Za-z0-9*]+)(?: on resource: (\S+))?"
)

# The command that prints the policy the running command's job needs, set once per process by
# the CLI (`ebami iam policy --job apply`): every refusal names it.
_policy_command = "ebami iam policy"


def set_policy_command(command: str) -> None:
    global _policy_command
    _policy_command = command


class AccessDenied(AwsError):
    """The caller's identity may not make the call. `operation`: the call (`service:Operation`);
    `action`: the IAM action AWS named as refused, when its message names one; `resource`: what
    the call was on, when known. Its message is the one line of every refusal (`line`)."""

    def __init__(
        self, message: str = "", *, operation: str = "", action: str = "", resource: str = ""
    ) -> None:
        self.operation = operation
        self.action = action
        self.resource = resource
        super().__init__(message or self.line())

    @classmethod
    def from_message(cls, message: str, *, operation: str, resource: str = "") -> AccessDenied:
        """The refusal AWS's `message` words ("... is not authorized to perform: ACTION on
        resource: ARN ..."): the action and resource it names (its `action` empty where it
        names none; `resource` stands for what it does not name)."""
        found = _REFUSED.search(message)
        action = found.group(1) if found else ""
        named = (found.group(2) if found and found.group(2) else "") or resource
        return cls(operation=operation, action=action, resource=named.rstrip(".,;"))

    def line(self, actions: Sequence[str] = ()) -> str:
        """The action refused (AWS's word for it, else `actions`, else the operation), what it
        was on, the call, and the command that prints the policy the job needs."""
        named = [self.action] if self.action else list(actions) or [self.operation]
        named = [item for item in named if item]
        what = " and ".join(named) or "the call"
        on = f" on {self.resource}" if self.resource else ""
        call = f" ({self.operation})" if self.operation and self.operation not in named else ""
        return (
            f"access denied: the caller may not {what}{on}{call}; `{_policy_command}` prints "
            "what it needs"
        )


class GuardUnavailable(AwsError):
    """One of EC2's own AMI guards (deregistration protection, disabling, the references to an
    AMI) cannot be used here: the installed botocore or AWS does not know it, or AWS refused
    it. The caller goes on without it, with one warning."""


class CredentialsError(AwsError):
    """No usable AWS credentials, profile or region."""


class NotFoundError(EbamiError):
    """What was looked for does not exist (or is not visible to this account)."""

    exit_code = ExitCode.NOT_FOUND


class CheckFailed(EbamiError):
    """A validation ebami ran did not pass; the message names the failed checks."""

    exit_code = ExitCode.CHECK_FAILED


class Refused(EbamiError):
    """`ebami apply` would not change the environment: a gate refused, or it was not Ready."""

    exit_code = ExitCode.REFUSED


class RolledBack(EbamiError):
    """The environment update failed and the environment is back where it was."""

    exit_code = ExitCode.ROLLED_BACK


class NeedsAttention(EbamiError):
    """A change was made and what it left needs a person: an environment update that failed
    and could not be undone (or was lost track of), or a promote/revoke that left a channel
    naming a revoked AMI."""

    exit_code = ExitCode.NEEDS_ATTENTION


class ActionNeeded(EbamiError):
    """`ebami check --exit-code` found a build needed or an environment drifting."""

    exit_code = ExitCode.ACTION_NEEDED


class ToolError(EbamiError):
    """A program ebami drives (Packer) is missing, too old, or failed; the message says which."""


class Interrupted(EbamiError):
    """Ctrl-C or SIGTERM stopped the work after what was running cleaned up."""

    exit_code = ExitCode.CTRL_C


@dataclass(frozen=True)
class Leftover:
    """Something a run made and could not remove: what it is, why, and the command (for the
    AWS CLI, say) that removes it."""

    resource: str
    reason: str
    remove: str

    def __str__(self) -> str:
        return f"{self.resource} ({self.reason}); remove it with: {self.remove}"

    def to_json(self) -> dict[str, Any]:
        return {"resource": self.resource, "reason": self.reason, "remove": self.remove}


class LeftBehind(EbamiError):
    """What a run made could not all be removed; the message names each leftover with the
    command that removes it.

    A clean-up step raises it for what it could not remove (the executor collects them and
    carries on); a command raises it, with `outcome`, when it otherwise succeeded.
    """

    exit_code = ExitCode.LEFT_BEHIND

    def __init__(self, leftovers: Sequence[Leftover], outcome: str | None = None) -> None:
        self.leftovers = tuple(leftovers)
        lead = f"{outcome}, but left behind: " if outcome else "left behind: "
        super().__init__(lead + "; ".join(str(leftover) for leftover in self.leftovers))
