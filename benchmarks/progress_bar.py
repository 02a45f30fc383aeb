"""What the progress bar costs a render: ``vidstyle run`` whole process with the bar at its redraw rate
(``vidstyle.cli.progress.REFRESH_PER_SECOND``), with rich's default of 10 redraws a second, and with
``--quiet``, on an 8-second cut of a real clip at 640x360 with the compiled kernels built.

Run from the repository root:  python -m benchmarks.progress_bar [--clip cutBunny] [--repeats 2] [--note TEXT]

Each redraw is Python code under the GIL, which the compiled network's call holds while it runs, so a
bar that redraws often stalls the render. The cases run interleaved, ``--repeats`` times each; the
median wall time is reported, and the ratio to ``--quiet``. The bar draws to a file (stderr is not a
terminal here); rich still redraws it at its rate. Writes ``benchmarks/results/progress_bar.{json,md}``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import RESULTS, SHARED_DATA, cpu_name, write_results
from benchmarks.e2e import cut_clip

STYLE = "starry_night"
VIDSTYLE = Path(sys.executable).parent / "vidstyle"  # the console script, as a user runs it
# The bar at a given rate: the CLI with the module's rate replaced before it draws.
_WITH_RATE = "import sys, vidstyle.cli.progress as p; p.REFRESH_PER_SECOND = int(sys.argv[1]); " \
             "from vidstyle.cli.app import main; main(sys.argv[2:])"


def _run(args: list[str], rate: int | None, stderr: Path) -> float:
    """Wall seconds of one whole ``vidstyle`` process (``rate``: the bar's redraws a second; None: the CLI as is)."""
    cmd = [sys.executable, "-c", _WITH_RATE, str(rate), *args] if rate else [str(VIDSTYLE), *args]
    start = time.perf_counter()
    with stderr.open("w") as err:
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=err, check=True)
    return time.perf_counter() - start


def main() -> None:
    from vidstyle.cli.progress import REFRESH_PER_SECOND

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", default="cutBunny")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--note", default="", help="what the machine was doing (quiet, shared ...)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        clip = cut_clip(SHARED_DATA / "videos" / f"{args.clip}.mp4", work / "clip.mp4", args.seconds)
        render = ["run", str(clip), "-o", str(work / "out.mp4"), "--style", STYLE, "--overwrite"]
        _run([*render, "--max-frames", "1", "--build-kernels", "--quiet"], None, work / "err.txt")  # kernels built
        cases = {f"bar, {REFRESH_PER_SECOND} redraws/s (vidstyle)": (render, None),
                 "bar, 10 redraws/s (rich's default)": (render, 10),
                 "--quiet": ([*render, "--quiet"], None)}
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.repeats):
            for name, (cmd, rate) in cases.items():
                times[name].append(_run(cmd, rate, work / "err.txt"))
                print(name, round(times[name][-1], 2), flush=True)
    quiet = statistics.median(times["--quiet"])
    rows = [{"case": name, "wall_s": round(statistics.median(t), 2), "vs_quiet": round(statistics.median(t) / quiet, 3),
             "runs": [round(x, 2) for x in t]} for name, t in times.items()]
    write_results("progress_bar", rows, ["case", "wall_s", "vs_quiet", "runs"], device=cpu_name(),
                  clip=f"{args.clip}, first {args.seconds} s", load_average=os.getloadavg(), note=args.note)
    with open(RESULTS / "progress_bar.md", "a") as f:
        f.write(f"\n{cpu_name()}, {args.clip} cut to {args.seconds} s, `--style {STYLE}`, kernels built, median of "
                f"{args.repeats}; load average {tuple(round(x, 2) for x in os.getloadavg())} when it ended. "
                f"{args.note}\n")


if __name__ == "__main__":
    main()
