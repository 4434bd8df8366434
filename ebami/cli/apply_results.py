"""What `ebami apply` reports: every environment's record and result, kept as the run goes
(the threads of a fleet write them), as text lines and JSON on stdout, the `--record` file, and
GitHub's step outputs, summary and annotations."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ebami.core.errors import InputError

if TYPE_CHECKING:
    from ebami.apply.fleet import EnvironmentRun, FleetRun, Wave
    from ebami.apply.run import ApplyRecord
    from ebami.cli.context import AppContext


class ApplyResults:
    """The results of one run's environments (`fleet.runs`, in order)."""

    def __init__(
        self,
        app: AppContext,
        fleet: FleetRun,
        path: Path | None,
        *,
        eb_name: Callable[[str], str],
    ) -> None:
        """`path`: the `--record` file, if any; `eb_name(name)`: the Elastic Beanstalk name of
        the environment an --env or group name stands for."""
        self._app = app
        self._fleet = fleet
        self._path = path
        self._eb_name = eb_name
        # Several environments: the results give their waves and one line each.
        self._several = len(fleet.runs) > 1
        # Records of the environments being switched, by --env name, as they stand.
        self._records: dict[str, ApplyRecord] = {}
        self._saving = threading.Lock()

    def save(self, name: str | None = None, record: ApplyRecord | None = None) -> None:
        """Keep `record` (the environment `name` being switched, as it stands) and write the
        file: a failure to write it is warned about, never the run's outcome."""
        from ebami.core.files import write_atomically

        with self._saving:
            if name is not None and record is not None:
                self._records[name] = record
            if self._path is not None:
                text = json.dumps(self._json(), indent=2) + "\n"
                try:
                    write_atomically(self._path, text, option="--record")
                except InputError as exc:
                    self._app.terminal.warn(f"could not write the record: {exc}")

    def _json(self) -> dict[str, Any]:
        return {"environments": [self._entry(run) for run in self._shown()]}

    def _shown(self) -> list[EnvironmentRun]:
        """The environments the results list: all of them when there are several; else the
        one, once it has a record (an error before its update is the error line alone)."""
        if self._several:
            return self._fleet.runs
        return [run for run in self._fleet.runs if self._record_of(run) is not None]

    def _record_of(self, run: EnvironmentRun) -> ApplyRecord | None:
        return run.record or self._records.get(run.name)

    def _entry(self, run: EnvironmentRun) -> dict[str, Any]:
        from ebami.apply.fleet import PENDING

        record = self._record_of(run)
        entry: dict[str, Any] = names_json(self._eb_name(run.name), run.name)
        if record is not None:
            entry = record.to_json()
            entry.update(names_json(record.plan.environment.name, run.name))
        entry.update(wave_json(run.wave))
        if run.result != PENDING:
            entry["result"] = run.result
            entry["reason"] = run.reason
        return entry

    def report(self) -> None:
        """The result of every environment (switched, tried or skipped) so far, on stdout."""
        runs = self._shown()
        if self._app.json:
            self._app.terminal.out_json(self._json())
        elif runs:
            self._app.terminal.out_text("".join(line + "\n" for line in self._lines(runs)))
        github = self._app.github
        if github is not None and runs:
            self._github(github, runs)

    def _lines(self, runs: list[EnvironmentRun]) -> list[str]:
        if not self._several:
            return [_line(run, record) for run in runs if (record := self._record_of(run))]
        width = max(len(run.name) for run in runs)
        lines = []
        for run in runs:
            record = self._record_of(run)
            what = f"{record.plan.target}  (was {record.plan.current})" if record else run.reason
            wave = f"wave {run.wave.number}" + (" canary" if run.wave.canary else "")
            lines.append(f"{wave:<12}  {run.name:<{width}}  {_result(run, record):<15}  {what}")
        return lines

    def _github(self, github: Any, runs: list[EnvironmentRun]) -> None:
        from ebami.apply.fleet import worst
        from ebami.core.tables import table

        records = [(run, record) for run in runs if (record := self._record_of(run))]
        bad = worst(runs)
        if bad is not None:
            result = bad.result
        elif self._fleet.interrupted:
            result = "interrupted"
        elif any(_result(run, record) == "applied" for run, record in records):
            result = "applied"
        else:
            result = "unchanged"
        if self._several:  # one line per environment: its name and its target
            ami_id = "\n".join(f"{run.name}={record.plan.target}" for run, record in records)
        else:
            ami_id = records[-1][1].plan.target if records else ""
        github.set({"result": result, "ami-id": ami_id, "results": "\n".join(self._lines(runs))})
        rows = []
        for run in runs:
            record = self._record_of(run)
            rows.append(
                (
                    run.name,
                    str(run.wave.number) + (" (canary)" if run.wave.canary else ""),
                    _result(run, record),
                    record.plan.target if record else "-",
                    (record.plan.current or "-") if record else "-",
                    run.reason,
                )
            )
        github.summary(
            "## ebami apply\n\n"
            + table(("Environment", "Wave", "Result", "AMI", "Was", "Why"), rows)
        )
        for run in runs:
            if run.ended and not run.ok and run.result != "skipped":
                github.annotate("error", run.reason, title=f"ebami: {run.name}")

    def finish(self) -> None:
        from ebami.apply.fleet import outcome_error

        self.report()
        error = outcome_error(self._fleet.runs, interrupted=self._fleet.interrupted)
        if error is not None:
            raise error
        for run in self._fleet.runs:
            record = run.record
            if record is None:
                continue
            plan = record.plan
            if run.result == "applied":
                shown = f"now on {plan.target} ({record.reason})"
            else:
                shown = f"already on {plan.target}"
            self._app.terminal.success(f"{plan.environment.name}: {shown}")


def names_json(environment: str, name: str | None) -> dict[str, str]:
    """`environment`: the Elastic Beanstalk name; `name`: the --env or group name, when it
    differs."""
    return {"environment": environment} | (
        {"name": name} if name is not None and name != environment else {}
    )


def wave_json(wave: Wave) -> dict[str, Any]:
    return {"wave": wave.number, "canary": wave.canary}


def _result(run: EnvironmentRun, record: ApplyRecord | None) -> str:
    from ebami.apply.fleet import PENDING

    if run.result != PENDING:
        return run.result
    return record.result.value if record is not None and record.result else "started"


def _line(run: EnvironmentRun, record: ApplyRecord) -> str:
    plan = record.plan
    return f"{plan.environment.name}  {_result(run, record)}  {plan.target}  (was {plan.current})"
