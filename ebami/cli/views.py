"""What each command shows of its result (`View`s for `ebami.cli.present`): the lines, tables,
JSON and GitHub outputs people and workflows read. Library results know their JSON; how they
read on a terminal and in a job summary is decided here."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

from ebami.cli.present import Annotation, View
from ebami.core.plan import plan_rows
from ebami.core.tables import table

if TYPE_CHECKING:
    from ebami.apply.fleet import EnvironmentRun
    from ebami.apply.orchestrator import DryRun
    from ebami.apply.results import ApplyResults
    from ebami.apply.run import ApplyRecord
    from ebami.build.run import BuildRecord
    from ebami.core.errors import EbamiError
    from ebami.core.plan import Plan
    from ebami.image.lookup import BaseAmi
    from ebami.verify.report import VerifyReport


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
            f"{record.plan.environment.name}  {result}  {_switch(result, record)}"
            for run in runs
            if (record := results.record_of(run)) and (result := result_of(run, record))
        ]
    width = max(len(run.name) for run in runs)
    lines = []
    for run in runs:
        record = results.record_of(run)
        what = _switch(result_of(run, record), record) if record else run.reason
        wave = f"wave {run.wave.number}" + (" canary" if run.wave.canary else "")
        lines.append(f"{wave:<12}  {run.name:<{width}}  {result_of(run, record):<15}  {what}")
    return lines


def _switch(result: str, record: ApplyRecord) -> str:
    """The AMI an applied environment runs now (and what it ran); for any other result, the
    switch that was tried, so that the line never reads as if the target were in place."""
    plan = record.plan
    if result == "applied":
        return f"{plan.target}  (was {plan.current})"
    if result in ("unchanged", "refused", "started"):
        return f"{plan.target}  (on {plan.current})"
    return f"{plan.current} -> {plan.target} (tried)"


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


# --- ebami build --------------------------------------------------------------------------------


def build_view(result: BuildRecord) -> View:
    """The AMI id (the record with -o json); what the clean-up could not remove is the exit
    code, after the AMI is printed."""
    from ebami.core.errors import LeftBehind

    outcome = f"{result.image_id} {'already built' if result.skipped else 'built'}"
    how = "reused: it carries the bake key" if result.skipped else "built"
    rows = [
        ("AMI", f"{result.image_id} ({how})"),
        ("Name", result.ami_name),
        ("Base AMI", result.base_ami.get("image_id", "")),
        ("Platform version", result.base_ami.get("platform_version", "")),
        ("Release", result.release or "-"),
        ("Drivers", ", ".join(result.drivers)),
        ("Bake key", f"`{result.bake_key}`"),
        ("SSM parameter", result.ssm_parameter or "-"),
    ]
    return View(
        json=result.to_json(),
        text=result.image_id + "\n",
        outputs={
            "ami-id": result.image_id,
            "bake-key": result.bake_key,
            "built": "false" if result.skipped else "true",
            "ssm-parameter": result.ssm_parameter or "",
        },
        summary="## ebami build\n\n" + table(("", ""), rows),
        success=f"{outcome} ({result.ami_name})",
        success_in_json=False,
        error=LeftBehind(result.left_behind, outcome=outcome) if result.left_behind else None,
    )


# --- ebami verify -------------------------------------------------------------------------------


def verify_view(report: VerifyReport, *, ami: bool) -> View:
    """The report; a failed check is the exit code (the clean-up has already warned of any
    leftover), then what could not be terminated. `verify --stock`: a verdict either way is
    the outcome; only none reached is a failure."""
    from ebami.core.errors import CheckFailed, LeftBehind
    from ebami.verify.report import TargetKind

    text = verify_text(report)
    outputs = {
        "verified": "true" if report.passed else "false",
        "target": report.target,
        "ami-id": report.target if ami else "",
    }
    if report.kind is TargetKind.STOCK:
        text += report.stock_summary() + "\n"
        outcome = failure = report.stock_summary()
        failed = report.custom_ami is None
        outputs["custom-ami-needed"] = report.custom_ami.output if report.custom_ami else "unknown"
    else:
        outcome = f"{report.kind.value} {report.target} verified"
        failure = report.failure_summary()
        failed = not report.passed
    error: EbamiError | None = None
    if failed:
        error = CheckFailed(failure)
    elif report.left_behind:
        error = LeftBehind(report.left_behind, outcome=outcome)
    return View(
        json=report.to_json(),
        text=text,
        outputs=outputs,
        summary=f"## ebami verify\n\n```\n{text}```\n",
        annotations=(
            [Annotation("error", failure, title=f"ebami: {report.target}")] if failed else []
        ),
        success=outcome,
        error=error,
    )


def verify_text(report: VerifyReport) -> str:
    """The report as text: per instance, one line per check and its evidence indented."""
    from ebami.core.results import CheckStatus

    marks = {CheckStatus.PASSED: "PASS", CheckStatus.FAILED: "FAIL", CheckStatus.SKIPPED: "SKIP"}
    if report.custom_ami is not None:  # verify --stock
        verdict = f"a custom AMI is {report.custom_ami.word}"
    else:
        verdict = "verified" if report.passed else "NOT verified"
    lines = [f"{report.kind.value} {report.target}: {verdict}"]
    lines += [f"  note: {note}" for note in report.notes]
    for item in report.instances:
        if item.instance_id is None:
            where = f"{item.image_id} (no instance launched)"
        elif item.launched:
            fate = "NOT terminated" if report.left_behind else "terminated"
            where = f"{item.instance_id} (launched from {item.image_id}, {fate})"
        else:
            where = f"{item.instance_id} (runs {item.image_id})"
        lines.append(f"  {where}")
        for check in item.checks:
            lines.append(f"    {marks[check.status]}  {check.name:<15}  {check.detail}")
            lines += [f"          {line}" for line in check.evidence]
    for key, value in report.verified_tags.items():
        lines.append(f"  tagged {key}={value}")
    return "\n".join(lines) + "\n"


# --- ebami lookup -------------------------------------------------------------------------------


def lookup_view(base: BaseAmi) -> View:
    return View(
        json=asdict(base),
        text=[
            ("Base AMI", base.image_id),
            ("Region", base.region),
            ("Platform", base.platform_name),
            ("Platform version", base.platform_version),
            ("Platform ARN", base.platform_arn),
            ("Branch", base.branch_name),
            ("OS", f"{base.os_name} {base.os_version}".strip()),
            ("Lifecycle", base.lifecycle_state),
        ],
    )
