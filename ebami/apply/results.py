"""What one `ebami apply` keeps of its environments as it goes: each one's record and result
(the threads of a fleet write them), as JSON, and in the `--record` file, written before each
update starts and when it ends. How the results are shown is the CLI's (`ebami.cli.views`).

The file is written whole each time; the text of an environment whose apply has ended is made
once (until its result or record changes), so that writing it stays cheap in a fleet of
hundreds."""

from __future__ import annotations

import json
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ebami.apply.fleet import PENDING, EnvironmentRun, FleetRun
from ebami.apply.run import ApplyRecord
from ebami.apply.waves import Wave
from ebami.core.errors import InputError
from ebami.core.files import write_atomically
from ebami.core.reporting import Reporter


class ApplyResults:
    """The results of one run's environments (`fleet.runs`, in order)."""

    def __init__(
        self,
        fleet: FleetRun,
        path: Path | None,
        reporter: Reporter,
        *,
        eb_name: Callable[[str], str],
    ) -> None:
        """`path`: the `--record` file, if any; `eb_name(name)`: the Elastic Beanstalk name of
        the environment an --env or group name stands for."""
        self.fleet = fleet
        self._path = path
        self._reporter = reporter
        self.eb_name = eb_name
        # Several environments: the results give their waves and one line each.
        self.several = len(fleet.runs) > 1
        # Records of the environments being switched, by --env name, as they stand.
        self._records: dict[str, ApplyRecord] = {}
        self._saving = threading.Lock()
        # The JSON text of each environment whose apply has ended, with what it was made from.
        self._texts: dict[str, tuple[tuple[Any, ...], str]] = {}

    def save(self, name: str | None = None, record: ApplyRecord | None = None) -> None:
        """Keep `record` (the environment `name` being switched, as it stands) and write the
        file: a failure to write it is warned about, never the run's outcome."""
        with self._saving:
            if name is not None and record is not None:
                self._records[name] = record
            if self._path is not None:
                text = self._text()
                try:
                    write_atomically(self._path, text, option="--record")
                except InputError as exc:
                    self._reporter.warn(f"could not write the record: {exc}")

    def to_json(self) -> dict[str, Any]:
        return {"environments": [self._entry(run) for run in self.shown()]}

    def _text(self) -> str:
        """`to_json()` as the file holds it (indented by two)."""
        entries = ",\n".join(self._entry_text(run) for run in self.shown())
        inner = f"[\n{entries}\n  ]" if entries else "[]"
        return f'{{\n  "environments": {inner}\n}}\n'

    def _entry_text(self, run: EnvironmentRun) -> str:
        record = self.record_of(run)
        ended = record is not None and record.finished is not None and run.result != PENDING
        made_of = (run.result, run.reason, id(record), record and record.finished,
                   record and id(record.verified))  # fmt: skip
        cached = self._texts.get(run.name)
        if ended and cached is not None and cached[0] == made_of:
            return cached[1]
        text = textwrap.indent(json.dumps(self._entry(run), indent=2), "    ")
        if ended:
            self._texts[run.name] = (made_of, text)
        return text

    def shown(self) -> list[EnvironmentRun]:
        """The environments the results list: all of them when there are several; else the
        one, once it has a record (an error before its update is the error line alone)."""
        if self.several:
            return self.fleet.runs
        return [run for run in self.fleet.runs if self.record_of(run) is not None]

    def record_of(self, run: EnvironmentRun) -> ApplyRecord | None:
        return run.record or self._records.get(run.name)

    def _entry(self, run: EnvironmentRun) -> dict[str, Any]:
        record = self.record_of(run)
        entry: dict[str, Any] = names_json(self.eb_name(run.name), run.name)
        if record is not None:
            entry = record.to_json()
            entry.update(names_json(record.plan.environment.name, run.name))
        entry.update(wave_json(run.wave))
        if run.result != PENDING:
            entry["result"] = run.result
            entry["reason"] = run.reason
        return entry


def names_json(environment: str, name: str | None) -> dict[str, str]:
    """`environment`: the Elastic Beanstalk name; `name`: the --env or group name, when it
    differs."""
    return {"environment": environment} | (
        {"name": name} if name is not None and name != environment else {}
    )


def wave_json(wave: Wave) -> dict[str, Any]:
    return {"wave": wave.number, "canary": wave.canary}


def result_of(run: EnvironmentRun, record: ApplyRecord | None) -> str:
    """How the environment ended, or where it stands while its wave runs."""
    if run.result != PENDING:
        return run.result
    return record.result.value if record is not None and record.result else "started"
