"""The one line a refused call ends a command with: the IAM action refused, on what, and the
command that prints the policy the command's job needs."""

from __future__ import annotations

from collections.abc import Sequence

from ebami.core.errors import AccessDenied

# Each command's job (`ebami iam policy --job`); `iam` and `sandbox` make no call a job names.
COMMAND_JOBS = {
    "lookup": "check",
    "check": "check",
    "build": "build",
    "verify": "verify",
    "apply": "apply",
    "events": "apply",
    "status": "lifecycle",
    "promote": "lifecycle",
    "revoke": "lifecycle",
    "prune": "lifecycle",
}


def job_of(args: Sequence[str]) -> str | None:
    """The job of the command `args` run (the first word that names a command)."""
    for arg in args:
        if arg in COMMAND_JOBS:
            return COMMAND_JOBS[arg]
    return None


def actions_of(operation: str) -> list[str]:
    """The IAM actions the table gives `operation`: its own name where that is one of them,
    else the actions it is authorized as (UpdateTagsForResource: AddTags)."""
    from ebami.iam.calls import JOBS  # the table only for a refusal, not on every start-up

    found = {
        action
        for calls in JOBS.values()
        for call in calls
        if call.operation == operation
        for action in call.iam_actions
    }
    if operation in found or not found:
        return [operation] if operation else []
    return sorted(action for action in found if action.split(":")[0] == operation.split(":")[0])


def denied_line(exc: AccessDenied) -> str:
    """`exc`'s line, the action taken from the table where AWS's message named none."""
    return exc.line(actions_of(exc.operation))
