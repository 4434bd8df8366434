"""What each command shows of its result (`View`s for `ebami.cli.present`): the lines, tables,
JSON and GitHub outputs people and workflows read. Library results know their JSON; how they
read on a terminal and in a job summary is decided here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ebami.cli.present import Annotation, View
from ebami.core.plan import plan_rows
from ebami.core.tables import table

if TYPE_CHECKING:
    from ebami.apply.fleet import EnvironmentRun
    from ebami.apply.orchestrator import DryRun
    from ebami.apply.results import ApplyResults
    from ebami.apply.run import ApplyRecord
    from ebami.core.errors import EbamiError
    from ebami.core.plan import Plan
    from ebami.lifecycle.check import CheckReport
    from ebami.lifecycle.deletion import PruneResult
    from ebami.lifecycle.prune import Selection
    from ebami.lifecycle.status import StatusReport


def dry_run_view(plans: list[Plan], json: object, error: EbamiError | None = None) -> View:
    """`--dry-run`: each plan as the executor would run it (a table each, or `json`)."""
    return View(json=json, tables=[plan_rows(plan) for plan in plans], error=error)


# --- ebami apply -------------------------------------------------------------------------------


def apply_dry_run_view(dry: DryRun) -> View:
    return dry_run_view([item.steps for item in dry.plans], dry.to_json(), dry.error)


def apply_view(results: ApplyResults, *, error: EbamiError | None = None, done: bool) -> View:
    """Every environment's result so far (switched, tried or skipped): one line each on
    stdout, `{"environments": [...]}` with -o json, and for GitHub the fleet's `result`, the
    AMI of each environment and a summary table. `done`: the run ended (its closing lines:
    where each environment is now, unless `error`)."""
    from ebami.apply.fleet import worst
    from ebami.apply.results import result_of

    runs = results.shown()
    records = [(run, record) for run in runs if (record := results.record_of(run))]
    lines = _apply_lines(results, runs)
    outputs: dict[str, str] = {}
    summary = ""
    annotations: list[Annotation] = []
    if runs:
        bad = worst(runs)
        if bad is not None:
            result = bad.result
        elif results.fleet.interrupted:
            result = "interrupted"
        elif any(result_of(run, record) == "applied" for run, record in records):
            result = "applied"
        else:
            result = "unchanged"
        if results.several:  # one line per environment: its name and its target
            ami_id = "\n".join(f"{run.name}={record.plan.target}" for run, record in records)
        else:
            ami_id = records[-1][1].plan.target if records else ""
        outputs = {"result": result, "ami-id": ami_id, "results": "\n".join(lines)}
        rows = []
        for run in runs:
            record = results.record_of(run)
            rows.append(
                (
                    run.name,
                    str(run.wave.number) + (" (canary)" if run.wave.canary else ""),
                    result_of(run, record),
                    record.plan.target if record else "-",
                    (record.plan.current or "-") if record else "-",
                    run.reason,
                )
            )
        summary = "## ebami apply\n\n" + table(
            ("Environment", "Wave", "Result", "AMI", "Was", "Why"), rows
        )
        annotations = [
            Annotation("error", run.reason, title=f"ebami: {run.name}")
            for run in runs
            if run.ended and not run.ok and run.result != "skipped"
        ]
    return View(
        json=results.to_json(),
        text="".join(line + "\n" for line in lines),
        outputs=outputs,
        summary=summary,
        annotations=annotations,
        success=_where_now(results) if done else None,
        error=error,
    )


def _apply_lines(results: ApplyResults, runs: list[EnvironmentRun]) -> list[str]:
    from ebami.apply.results import result_of

    if not results.several:
        return [
            f"{record.plan.environment.name}  {result_of(run, record)}  {record.plan.target}  "
            f"(was {record.plan.current})"
            for run in runs
            if (record := results.record_of(run))
        ]
    width = max(len(run.name) for run in runs)
    lines = []
    for run in runs:
        record = results.record_of(run)
        what = f"{record.plan.target}  (was {record.plan.current})" if record else run.reason
        wave = f"wave {run.wave.number}" + (" canary" if run.wave.canary else "")
        lines.append(f"{wave:<12}  {run.name:<{width}}  {result_of(run, record):<15}  {what}")
    return lines


def _where_now(results: ApplyResults) -> list[str]:
    """The closing lines of a run that ended well: each environment and the AMI it runs."""
    lines = []
    for run in results.fleet.runs:
        record: ApplyRecord | None = run.record
        if record is None:
            continue
        plan = record.plan
        if run.result == "applied":
            lines.append(f"{plan.environment.name}: now on {plan.target} ({record.reason})")
        else:
            lines.append(f"{plan.environment.name}: already on {plan.target}")
    return lines


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
