"""Renders side by side: OpenMP's spin-wait with libgomp's default against the bound the command line sets.

Run from the repository root:  python -m benchmarks.concurrent [--renders 2]

``vidstyle run samples/sample.mp4 --style starry_night`` (whole processes, the bundled sample): once alone,
then ``--renders`` copies started at the same moment, each case twice, with ``GOMP_SPINCOUNT=300000``
(libgomp's own default, what torch had before ``vidstyle.openmp``) and with nothing set (the command line
then sets :data:`vidstyle.openmp.SPIN_COUNT`). Reports the wall time until the last render ends and each
case's slowdown against one render alone. Writes ``benchmarks/results/concurrent.{json,md}``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import REPO, cpu_name, write_results
from vidstyle.openmp import SPIN_COUNT, SPIN_COUNT_VARIABLE

LIBGOMP_DEFAULT = "300000"
BIN = Path(sys.executable).parent


def renders_at_once(count: int, spin_count: str | None, folder: Path) -> float:
    """Seconds from starting ``count`` renders of the sample together until the last one ends."""
    env = {k: v for k, v in os.environ.items() if k not in (SPIN_COUNT_VARIABLE, "OMP_WAIT_POLICY")}
    if spin_count is not None:
        env[SPIN_COUNT_VARIABLE] = spin_count
    commands = [[str(BIN / "vidstyle"), "run", str(REPO / "samples" / "sample.mp4"), "-o", str(folder / f"{i}.mp4"),
                 "--style", "starry_night", "--overwrite", "--quiet"] for i in range(count)]
    start = time.perf_counter()
    processes = [subprocess.Popen(c, env=env, stdout=subprocess.DEVNULL) for c in commands]
    if any(p.wait() != 0 for p in processes):
        raise SystemExit("a render failed")
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=2, help="renders started together")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, spin in ((f"libgomp default ({LIBGOMP_DEFAULT})", LIBGOMP_DEFAULT),
                            (f"vidstyle's bound ({SPIN_COUNT})", None)):
            alone = min(renders_at_once(1, spin, Path(tmp)) for _ in range(2))
            together = min(renders_at_once(args.renders, spin, Path(tmp)) for _ in range(2))
            rows.append({"spin count": label, "one render s": round(alone, 1),
                         f"{args.renders} at once s": round(together, 1),
                         "slowdown vs one alone": round(together / alone, 2)})
    write_results("concurrent", rows, list(rows[0]), device=f"CPU {cpu_name()} ({os.cpu_count()} cores)",
                  load_average=os.getloadavg())


if __name__ == "__main__":
    main()
