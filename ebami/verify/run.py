"""Running a verify plan: the executor performs its instructions with `VerifyActions`, and what
they returned becomes the report. A run cut short says what it left running (nothing, or what
its clean-up terminated or could not)."""

from __future__ import annotations

from typing import Any

from ebami.aws.ec2_values import Instance
from ebami.core.errors import Interrupted
from ebami.core.plan import Executor
from ebami.core.results import CheckResult, CheckStatus
from ebami.image.stock import Need, StockVerdict, need
from ebami.verify import instance_checks
from ebami.verify.actions import Results
from ebami.verify.planner import VerifyPlan
from ebami.verify.report import InstanceReport, TargetKind, VerifyReport


def run_verify(plan: VerifyPlan, executor: Executor) -> VerifyReport:
    """Execute the plan; the report of what its instructions found."""
    if plan.refusal is not None:
        ssm = CheckResult(instance_checks.SSM, CheckStatus.FAILED, plan.refusal)
        report = InstanceReport(None, plan.target, False, (ssm,))
        if plan.kind is not TargetKind.STOCK:
            return VerifyReport(plan.kind, plan.target, (report,), plan.notes)
        # A platform's own AMI that cannot be checked is remembered as such (its plan says so).
        stock = _execute(plan, executor).get("stock")
        return VerifyReport(
            plan.kind, plan.target, (report,), plan.notes, stock=stock,
            custom_ami=_custom_ami(plan, stock),
        )  # fmt: skip
    outputs = _execute(plan, executor)
    results: Results = outputs.get("results", {})
    if plan.kind in (TargetKind.AMI, TargetKind.STOCK):
        instance: Instance = outputs["instance"]
        reports: tuple[InstanceReport, ...] = (
            InstanceReport(
                instance.instance_id, plan.target, True, tuple(results[instance.instance_id])
            ),
        )
    else:
        reports = tuple(
            InstanceReport(
                target.instance.instance_id,
                target.instance.image_id,
                False,
                tuple(results[target.instance.instance_id]),
            )
            for target in plan.targets
        )
    return VerifyReport(
        plan.kind,
        plan.target,
        reports,
        plan.notes,
        outputs.get("verified_tags") or {},
        tuple(executor.left_behind),
        outputs.get("stock"),
        _custom_ami(plan, outputs.get("stock")),
    )


def _execute(plan: VerifyPlan, executor: Executor) -> dict[str, Any]:
    try:
        return executor.execute(plan.steps)
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted: verify stopped; {_left(plan, executor)}") from None


def _custom_ami(plan: VerifyPlan, stock: StockVerdict | None) -> Need | None:
    """`verify --stock`: whether a custom AMI is needed for the drivers required (by the
    rule check and status judge environments by: `ebami.image.stock.need`)."""
    base = plan.base
    if base is None or stock is None:
        return None
    return need(
        stock, plan.required, stock=base.image_id, alias=base.platform,
        version=base.platform_version,
    )  # fmt: skip


def _left(plan: VerifyPlan, executor: Executor) -> str:
    if plan.kind not in (TargetKind.AMI, TargetKind.STOCK):
        return "nothing was launched"
    if executor.left_behind:
        return "left behind: " + "; ".join(str(leftover) for leftover in executor.left_behind)
    gone = executor.outputs.get("terminated") or []
    return f"terminated {', '.join(gone)}" if gone else "nothing was left running"
