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
    try:
        with ThreadPoolExecutor(args.workers) as pool:
            for done, (case, outcome) in enumerate(pool.map(one, range(args.cases)), start=1):
                counts = per_kind[case.kind]
                counts["cases"] += 1
                counts[f"exit_{'hang' if outcome.code is None else outcome.code}"] += 1
                counts["tracebacks"] += "Traceback" in outcome.stderr
                counts["files_left"] += any(p.startswith("files left") for p in outcome.problems)
                counts["problems"] += bool(outcome.problems)
                if outcome.problems:
                    problems.append({"case": case.index, "kind": case.kind, "base": case.base,
                                     "argv": case.argv[3:], "code": outcome.code, "problems": outcome.problems})
                if done % 50 == 0:
                    print(f"{done}/{args.cases} cases, {len(problems)} with problems", flush=True)
    finally:
        for runner in runners:
            runner.close()
        shutil.rmtree(root, ignore_errors=True)
    seconds = time.perf_counter() - start
    columns = ["kind", "cases", "exit_0", "exit_2", "exit_1", "exit_hang", "tracebacks", "files_left", "problems"]
    rows = [{"kind": kind, **{c: counts.get(c, 0) for c in columns[1:]}} for kind, counts in sorted(per_kind.items())]
    total = {"kind": "all", **{c: sum(r[c] for r in rows) for c in columns[1:]}}
    write_results(args.name, [*rows, total], columns, device=cpu_name(), seed=args.seed, cases=args.cases, workers=args.workers,
                  seconds=round(seconds, 1), seconds_per_case=round(seconds / max(1, args.cases), 3),
                  loadavg=os.getloadavg(), note="times measured while other jobs shared the machine",
                  problems=problems)
    print(f"{args.cases} cases in {seconds:.0f} s: {total['exit_1']} exit 1, {total['tracebacks']} tracebacks, "
          f"{total['exit_hang']} hangs, {total['files_left']} with files left, {total['problems']} with problems")


if __name__ == "__main__":
    main()
