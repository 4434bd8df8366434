"""The whole minimality sweep of `ebami iam policy` (tests/support/iam_sweep.py): every action of
every job's policy taken out in turn, against a sandbox that enforces IAM; prints each action's
verdict (needed, optional, unexercised, broken) and, with --json, the list.

    .venv/bin/python benchmarks/iam_sweep.py [--job JOB] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.iam_sweep import SCENARIOS, actions, enforced_world, probe


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--job", action="append", help="default: every job with runs")
    parser.add_argument("--action", action="append", help="only these actions (default: all)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    jobs = args.job or list(dict.fromkeys(item.job for item in SCENARIOS))
    verdicts = []
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as base, enforced_world(Path(base)) as made:
        for job in jobs:
            for action in actions(made, job):
                if args.action and action not in args.action:
                    continue
                verdict = probe(made, job, action)
                verdicts.append(verdict)
                print(f"{job:10} {action:50} {verdict.kind:12} {verdict.scenario}",
                      file=sys.stderr, flush=True)  # fmt: skip
    counts = {kind: sum(item.kind == kind for item in verdicts)
              for kind in ("needed", "optional", "kept", "unexercised", "broken")}  # fmt: skip
    print(f"{len(verdicts)} actions in {time.perf_counter() - began:.0f} s: {counts}",
          file=sys.stderr)  # fmt: skip
    if args.json:
        print(json.dumps([item.to_json() for item in verdicts], indent=2))
    return 1 if counts["broken"] else 0


if __name__ == "__main__":
    sys.exit(main())
