"""What the lifecycle commands show of their results (`View`s for `ebami.cli.present`):
status, check, prune, promote and revoke. The other commands' are in `ebami.cli.views`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ebami.cli.present import Annotation, View
from ebami.core.plan import plan_rows
from ebami.core.tables import table

if TYPE_CHECKING:
    from ebami.core.errors import EbamiError
    from ebami.core.plan import Plan
    from ebami.lifecycle.check import CheckReport
    from ebami.lifecycle.deletion import PruneResult
    from ebami.lifecycle.promote import Promoted
    from ebami.lifecycle.prune import Selection
    from ebami.lifecycle.readback import RevokedChannel
    from ebami.lifecycle.revoke import RevokePlan
    from ebami.lifecycle.status import StatusReport


# --- ebami status and ebami check ---------------------------------------------------------------


def status_view(report: StatusReport) -> View:
    return View(
        json=report.to_json(),
        text=report.text(),
        outputs=report.github_outputs(),
        summary=report.markdown(),
        annotations=[
            Annotation(
                "warning",
                f"{item.verdict}: {item.detail}",
                title=f"ebami: {item.facts.name} drifts",
            )
            for item in report.drifting
        ],
        success=report.summary(),
    )


def check_view(report: CheckReport, *, exit_code: bool) -> View:
    """The verdict; with `--exit-code`, exit 10 when a build or a verify is needed or an
    environment drifts."""
    from ebami.core.errors import ActionNeeded

    build = report.build
    annotations = [
        Annotation("warning", item.line, title=f"ebami: {item.environment} drifts")
        for item in report.drifting
    ]
    if build.needed or build.verify_needed:
        annotations.append(Annotation("notice", build.summary, title="ebami: action needed"))
    if report.stock is not None and report.stock.needed is False:
        annotations.append(
            Annotation("notice", report.stock.detail, title="ebami: custom AMI not needed")
        )
    error = None
    if report.action_needed and exit_code:
        what = [build.summary] if build.needed or build.verify_needed else []
        what += [item.line for item in report.drifting]
        error = ActionNeeded("; ".join(what))
    drifting = f"; {len(report.drifting)} environment(s) drift" if report.drifting else ""
    return View(
        json=report.to_json(),
        text=report.rows(),
        outputs=report.github_outputs(),
        summary=report.markdown(),
        annotations=annotations,
        success=build.summary + drifting,
        error=error,
    )


# --- ebami prune --------------------------------------------------------------------------------


def prune_plan_view(plan: Plan, selection: Selection) -> View:
    """The dry run: the plan, and for GitHub what would be deleted."""
    would = [item.image.image_id for item in selection.deleted]
    tail = "; run again with --yes to delete them" if would else ""
    rows = [
        (f"{item.image.image_id} {item.image.region}", item.line()) for item in selection.decisions
    ]
    return View(
        json={"dry_run": True, **plan.to_json(), **selection.to_json()},
        tables=[plan_rows(plan)],
        outputs={
            "dry-run": "true",
            "would-delete": " ".join(would),
            "would-delete-count": str(len(would)),
            "deleted": "",
            "deleted-count": "0",
        },
        summary=_prune_summary("## ebami prune (dry run: nothing deleted)", selection, rows),
        success=f"dry run: {len(would)} AMI(s) would be deleted, nothing changed{tail}",
    )


def prune_result_view(result: PruneResult) -> View:
    """What `--yes` deleted, kept and left behind (each with the command that finishes the
    job); an interruption or a leftover is the error the run ends with."""
    from ebami.core.errors import Interrupted, LeftBehind

    deleted = [item.image_id for item in result.deleted]
    mine = [item for item in result.deleted if not item.already_gone]
    outcome = f"deleted {len(mine)} AMI(s)"
    if len(mine) < len(result.deleted):
        outcome += f" ({len(result.deleted) - len(mine)} more were deregistered already)"
    error: EbamiError | None = None
    if result.interrupted:
        error = Interrupted(
            f"stopped after {len(result.deleted)} AMI(s), none left half-deleted; run ebami "
            "prune again for the rest"
        )
    elif result.left_behind:
        error = LeftBehind(result.left_behind, outcome=outcome)
    kept = f", kept {len(result.skipped)} used since the plan" if result.skipped else ""
    return View(
        json=result.to_json(),
        text=result.rows(),
        outputs={
            "dry-run": "false",
            "deleted": " ".join(deleted),
            "deleted-count": str(len(deleted)),
        },
        summary=_prune_summary("## ebami prune", result.selection, result.rows()),
        annotations=[
            Annotation("error", str(leftover), title="ebami prune: left behind")
            for leftover in result.left_behind
        ],
        success=outcome + kept,
        error=error,
    )


def _prune_summary(heading: str, selection: Selection, rows: list[tuple[str, str]]) -> str:
    return f"{heading}\n\n{selection.counts()}\n\n" + table(("AMI", "Decision"), rows)


# --- ebami promote and ebami revoke -------------------------------------------------------------


def promote_view(promoted: Promoted) -> View:
    plan, version = promoted.plan, promoted.version
    if plan.unchanged:
        success = f"unchanged: channel {plan.key} already names {plan.image_id}"
    else:
        success = f"channel {plan.key} now names {plan.image_id} (was {plan.current or 'unset'})"
    return View(
        json={**plan.to_json(), "version": version},
        text=f"{plan.parameter}  {plan.image_id}  version {version}\n",
        outputs={"channel": plan.key.channel, "ami-id": plan.image_id, "version": str(version)},
        summary=(
            f"## ebami promote\n\nChannel {plan.key} (`{plan.parameter}`): {plan.image_id}, "
            f"version {version}" + (" (unchanged)" if plan.unchanged else "") + "\n"
        ),
        success=success,
    )


def revoke_view(plan: RevokePlan, stale: Sequence[RevokedChannel]) -> View:
    """What was revoked and where each channel went; a channel another run left naming a
    revoked AMI is the error (exit 9), after the rest is shown."""
    from ebami.lifecycle.readback import needs_attention

    lines = [
        f"{move.state.parameter}{f' ({move.region})' if move.remote else ''}  "
        f"{move.state.image_id} -> "
        + (move.previous.image_id or "deleted (no earlier usable value)")
        for move in plan.moves
    ]
    revoked = [f"revoked {plan.image_id}"] + [
        f"revoked copy {copy.image_id} ({copy.region})" for copy in plan.copies
    ]
    moved = f"; {len(plan.moves)} channel(s) moved off it" if plan.moves else ""
    copies = f"; {len(plan.copies)} copy(ies) in other regions too" if plan.copies else ""
    deprecated = f"; deprecated at {plan.to_json()['deprecate_at']}" if plan.deprecate_at else ""
    warnings = []
    if plan.already:
        if plan.given_reason != plan.reason:
            warnings.append(
                f"the reason given ({plan.given_reason}) is not recorded: {plan.image_id} keeps "
                "the first one"
            )
        success = (
            f"{plan.image_id} already revoked on {plan.revoked_at}: {plan.reason}"
            f"{moved}{copies}{deprecated}"
        )
    else:
        success = f"{plan.image_id} revoked ({plan.reason}){moved}{copies}{deprecated}"
    body = "\n".join(f"- `{line}`" for line in lines) or "No channel named it."
    return View(
        json=plan.to_json(),
        text="".join(line + "\n" for line in [*revoked, *lines]),
        outputs={"ami-id": plan.image_id, "channels": "\n".join(lines)},
        summary=f"## ebami revoke\n\n{plan.image_id}: {plan.reason}\n\n{body}\n",
        warnings=warnings,
        success=success,
        error=needs_attention(stale, "revoke") if stale else None,
        error_after_success=True,
    )
