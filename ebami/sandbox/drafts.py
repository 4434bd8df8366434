"""An environment's configuration sets, as `DescribeConfigurationSettings` lists them.

The API reference: "it is possible to receive two sets of setting descriptions. One is the
deployed configuration set, and the other is a draft configuration of an environment that is
either in the process of deployment or that failed to deploy"; `DeploymentStatus` is one of
`deployed`, `pending` (a draft in the process of deploying) and `failed` (a draft that failed to
deploy), botocore's `ConfigurationDeploymentStatus`.

With `realism.configuration_drafts` on, the sandbox answers so: during an update the `deployed`
set keeps the previous settings (the previous ImageId) and a `pending` draft holds the new ones;
when the update completes the draft is what is deployed; when it fails (a health failure, a
launch that fails, an abort), the draft stays `failed` until the next update replaces it (or
DeleteEnvironmentConfiguration removes it: `ebami.sandbox.eb_draft_actions`), and `deployed` is
what really runs: the previous settings once Elastic Beanstalk rolls back, the new ones when it
does not (rolling updates disabled: the instances were replaced all at once). With the switch
off, one `deployed` set holds the environment's settings, the new ImageId already mid-update.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ebami.sandbox.eb_requests import option_settings
from ebami.sandbox.environments import WEB_SERVER_TIER, Draft, SandboxEnvironment, Update


def configuration_sets(env: SandboxEnvironment, *, drafts: bool) -> list[dict[str, Any]]:
    """The environment's configuration sets, the deployed one first."""
    update = env.update
    if not drafts:
        return [_described(env, "deployed", env.options, env.image_id, env.updated)]
    if update is None:
        sets = [_described(env, "deployed", env.options, env.image_id, env.updated)]
        if env.failed_draft is not None:
            sets.append(_draft(env, "failed", env.failed_draft))
        return sets
    draft = Draft(update.draft_options, update.image_id, update.requested or env.updated)
    if not update.failed:
        return [_previous(env, update), _draft(env, "pending", draft)]
    if update.reverting:
        return [_previous(env, update), _draft(env, "failed", draft)]
    # Failed without a rollback: the new settings run, and their deployment failed.
    return [
        _described(env, "deployed", env.options, env.image_id, env.updated),
        _draft(env, "failed", draft),
    ]


def failed_draft(update: Update, env: SandboxEnvironment) -> Draft | None:
    """What an ending update leaves as the environment's failed draft (None: it deployed)."""
    if not update.failed:
        return None
    return Draft(update.draft_options, update.image_id, update.requested or env.updated)


def _previous(env: SandboxEnvironment, update: Update) -> dict[str, Any]:
    return _described(
        env,
        "deployed",
        update.previous_options,
        update.previous_image,
        update.previous_updated or env.created,
    )


def _draft(env: SandboxEnvironment, status: str, draft: Draft) -> dict[str, Any]:
    return _described(env, status, draft.options, draft.image_id, draft.updated)


def _described(
    env: SandboxEnvironment,
    status: str,
    options: dict[tuple[str, str], str],
    image_id: str,
    updated: datetime,
) -> dict[str, Any]:
    return {
        "SolutionStackName": env.solution_stack,
        "PlatformArn": env.platform_arn,
        "ApplicationName": env.application,
        "EnvironmentName": env.name,
        # Not in botocore's model, but the service answers it: the EB CLI's own model has it,
        # and `eb health` reads it.
        "Tier": dict(WEB_SERVER_TIER),
        "DeploymentStatus": status,
        "DateCreated": env.created,
        "DateUpdated": updated,
        "OptionSettings": option_settings(options, image_id),
    }
