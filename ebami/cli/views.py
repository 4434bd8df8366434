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
