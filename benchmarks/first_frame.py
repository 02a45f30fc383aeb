"""Where the time to the first painted frame goes, phase by phase, each case in a fresh process.

Run from the repository root:  python -m benchmarks.first_frame [--clip PATH] [--frames N]

Phases (wall clock, in a child process started for each case): Python + torch + OpenCV + PyAV + vidstyle
imports; model loading (``build_processor``: weights, style vector, flow); opening the clip and decoding its
first frame; ``prepare`` (builds or loads the compiled kernels for the processing size); the first
``process`` call; then the mean of the next ``--frames`` frames (the steady per-frame cost, temporal on).
Cases: compiled with the kernel cache warm, compiled with an empty cache (a new size / first run), and
uncompiled. Writes ``benchmarks/results/first_frame.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STARTED = time.perf_counter()
CASES = {"compiled, cache warm": {"compile": True, "cold": False},
         "compiled, cache empty": {"compile": True, "cold": True},
         "uncompiled": {"compile": False, "cold": False}}


def child(clip: Path, compile: bool, frames: int) -> dict:
    """Time each phase of a render's start in this (fresh) process: wall and CPU seconds (the CPU time of
    all threads, which waiting for a core on a loaded machine does not inflate)."""
    phases = {"python start": time.perf_counter() - STARTED}
    mark = (time.perf_counter(), time.process_time())

    def lap(name: str) -> None:
        nonlocal mark
        now = (time.perf_counter(), time.process_time())
        phases[name], phases[f"{name} cpu"] = now[0] - mark[0], now[1] - mark[1]
        mark = now

    import torch  # noqa: F401  (the imports a render needs, timed together)

    from vidstyle.io.reader import open_source
    from vidstyle.job import ProcessorSettings, build_processor
    from vidstyle.stylize.registry import StyleRequest
    lap("imports")
    built = build_processor(ProcessorSettings(style=StyleRequest(style="starry_night"), compile=compile))
    lap("model load")
    source = open_source(clip, max_frames=frames + 1)
    decoded = source.frames()
    first = next(decoded)
    lap("open + decode 1")
    if compile:
        built.processor.prepare(source.info.width, source.info.height)
    lap("prepare (kernels)")
    built.processor.process(first.image)
    lap("first frame")
    phases["to first frame"] = time.perf_counter() - STARTED
    phases["to first frame cpu"] = time.process_time()
    start = (time.perf_counter(), time.process_time())
    count = 0
    for frame in decoded:
        built.processor.process(frame.image)
        count += 1
    phases["per frame after"] = (time.perf_counter() - start[0]) / max(count, 1)
    phases["per frame after cpu"] = (time.process_time() - start[1]) / max(count, 1)
    phases["compiled"] = built.compiled
    return phases


def run_case(clip: Path, frames: int, compile: bool, cold: bool) -> dict:
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="vidstyle-inductor-") as cache:
        if cold:
            env["TORCHINDUCTOR_CACHE_DIR"] = cache
        cmd = [sys.executable, "-m", "benchmarks.first_frame", "--child", str(clip), "--frames", str(frames)]
        if compile:
            cmd.append("--compile")
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=1800)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clip", type=Path, default=None)
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--child", type=Path, default=None)
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--note", default="", help="what the machine was doing (quiet, shared ...)")
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.compile, args.frames)))
        return
    from benchmarks.common import RESULTS, SHARED_DATA, cpu_name, write_results

    clip = args.clip or SHARED_DATA / "videos" / "cutBunny.mp4"
    run_case(clip, 1, compile=True, cold=False)  # fills the user's kernel cache for this size: not recorded
    rows = []
    for name, case in CASES.items():
        phases = run_case(clip, args.frames, **case)
        rows.append({"case": name, **{k: round(v, 3) if isinstance(v, float) else v for k, v in phases.items()}})
        print(name, rows[-1], flush=True)
    columns = ["case"] + [f"{p}{c}" for p in ("imports", "model load", "prepare (kernels)", "first frame",
                                             "to first frame", "per frame after") for c in ("", " cpu")]
    columns.append("compiled")
    load = tuple(round(x, 1) for x in os.getloadavg())
    write_results("first_frame", rows, columns, device=cpu_name(), clip=str(clip.name), load_average=load,
                  note=args.note)
    with open(RESULTS / "first_frame.md", "a") as f:
        f.write(f"\n{cpu_name()}, load average {load} when it ended, {clip.name}, starry_night, temporal on, "
                f"{args.frames} frames after the first. Seconds. {args.note}\n")


if __name__ == "__main__":
    main()
