"""How an update followed to its end came out (`Outcome`), and the verdict on an update that has
ended, from its failure event and the configuration sets (`ended`); health is judged apart
(`ebami.apply.verdict`)."""

from __future__ import annotations

from enum import Enum

from ebami.aws.eb_values import FAILED, Configuration, Event


class Outcome(str, Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # Elastic Beanstalk rolled the configuration back itself.
    REVERTED = "reverted by Elastic Beanstalk"
    TIMED_OUT = "timed out"
    # Ready again after an abort (or a wait that asked only for Ready).
    READY = "ready"


def ended(
    config: Configuration,
    failure: Event | None,
    *,
    target: str | None,
    previous: str | None,
    shown: str,
    what: str,
    require_health: bool,
) -> tuple[Outcome, str] | None:
    """The verdict on an update that has ended (no draft of it pending), from its failure event
    and the configuration sets; None when it ended well and only health is left to judge."""
    image = config.image_id
    if failure is not None and not require_health and image == target:
        # A way back to an environment that failed before fails as before: it is back all
        # the same.
        return (
            Outcome.SUCCEEDED,
            f"Ready on {image}, health {shown} (the {what} reported: {failure.message})",
        )
    if failure is not None:
        reverted = image == previous and image != target
        return (Outcome.REVERTED if reverted else Outcome.FAILED), failure.message
    if target is not None and image != target:
        return Outcome.FAILED, f"the update ended with ImageId {image}, not {target}"
    # A failed draft is this update's when it names the target; one left by an earlier
    # update names another AMI (and stays until the next update replaces it).
    failed = [
        draft for draft in config.drafts(FAILED) if target is None or draft.image_id == target
    ]
    if failed:
        return (
            Outcome.FAILED,
            f"the configuration draft naming {failed[0].image_id or 'the platform AMI'} failed "
            "to deploy (DeploymentStatus failed)",
        )
    if not require_health:
        return Outcome.SUCCEEDED, f"Ready on {image}, health {shown}"
    return None
