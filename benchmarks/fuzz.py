"""Fuzz ``vidstyle run`` with thousands of damaged inputs (seeded): every case must end in exit 0 with
a playable output or exit 2 with one line, nothing at the output path after a failure, no hang.

    python -m benchmarks.fuzz --cases 1000 --seed 0

Prints a table per damage kind and writes ``benchmarks/results/fuzz.json`` (counts, every problem
found, the machine and its load: times are noisy while other jobs share it).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.common import cpu_name, write_results
from vidstyle.fuzz import CaseRunner, make_bases, make_case, run_case


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds a case may take (a hang)")
    parser.add_argument("--name", default="fuzz", help="result file name in benchmarks/results")
    parser.add_argument("--workers", type=int, default=1, help="cases run at once (one child process each)")
    parser.add_argument("--first", type=int, default=0, help="start the series at this case (resume a long run)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="vidstyle-fuzz-"))
    bases = make_bases(root / "bases")
    local = threading.local()
    runners: list[CaseRunner] = []

    def one(index: int):
        if not hasattr(local, "runner"):
            local.runner = CaseRunner()
            runners.append(local.runner)
        case = make_case(index, args.seed, bases, root)
        outcome = run_case(local.runner, case, args.timeout)
        shutil.rmtree(case.folder, ignore_errors=True)
        return case, outcome

    per_kind: dict[str, Counter] = defaultdict(Counter)
    problems: list[dict] = []
    start = time.perf_counter()
    indices = range(args.first, args.cases)
    try:
        with ThreadPoolExecutor(args.workers) as pool:
            for done, (case, outcome) in enumerate(pool.map(one, indices), start=1):
                counts = per_kind[case.kind]
                counts["cases"] += 1
                counts[f"exit_{'hang' if outcome.code is None else outcome.code}"] += 1
                counts["tracebacks"] += "Traceback" in outcome.stderr
                counts["files_left"] += any(p.startswith("files left") for p in outcome.problems)
                counts["problems"] += bool(outcome.problems)
                if outcome.problems:
                    problems.append({"case": case.index, "kind": case.kind, "base": case.base,
                                     "argv": case.argv[3:], "code": outcome.code, "problems": outcome.problems})
                if done % 25 == 0 or done == len(indices):  # a long run leaves its results as it goes
                    _report(args, per_kind, problems, done, time.perf_counter() - start)
    finally:
        for runner in runners:
            runner.close()
        shutil.rmtree(root, ignore_errors=True)


def _report(args: argparse.Namespace, per_kind: dict[str, Counter], problems: list[dict], done: int,
            seconds: float) -> None:
    columns = ["kind", "cases", "exit_0", "exit_2", "exit_1", "exit_hang", "tracebacks", "files_left", "problems"]
    rows = [{"kind": kind, **{c: counts.get(c, 0) for c in columns[1:]}} for kind, counts in sorted(per_kind.items())]
    total = {"kind": "all", **{c: sum(r[c] for r in rows) for c in columns[1:]}}
    write_results(args.name, [*rows, total], columns, device=cpu_name(), seed=args.seed,
                  cases=f"{args.first}..{args.first + done - 1} of {args.cases}", cases_done=done,
                  complete=args.first + done == args.cases, workers=args.workers, seconds=round(seconds, 1),
                  seconds_per_case=round(seconds / max(1, done), 3), loadavg=os.getloadavg(),
                  note="times measured while other jobs shared the machine", problems=problems)
    print(f"cases {args.first}..{args.first + done - 1}: {total['exit_1']} exit 1, {total['tracebacks']} "
          f"tracebacks, {total['exit_hang']} hangs, {total['files_left']} with files left, "
          f"{total['problems']} with problems ({seconds:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
