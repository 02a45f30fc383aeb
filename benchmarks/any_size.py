"""Kernels for frames of any size against kernels for one size: ms per 640x360 frame of the CIN-26 network
(bf16, as ``run`` compiles it on the CPU) on one and on two of torch's threads, and the pixels they differ by.

Run from the repository root:  python -m benchmarks.any_size [--rounds 5] [--frames 10]
Builds four ahead-of-time packages (``vidstyle.compiling.AotKernels``: fixed size and any size, for one and
for two threads; ~20-25 s each) in a temporary kernel cache, calls them as a render does (through
``ModelLibrary``), alternately, ``--rounds`` rounds of ``--frames`` frames each; the table has the median
round. This is the measurement behind ``ANY_SIZE``: where the kernels run on one thread (a render
painting ahead on 2-3 cores) a package for any size costs nothing, so one build serves every size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import torch

from benchmarks.common import cpu_name, write_results
from vidstyle.compiling import AotKernels, network_digest
from vidstyle.stylize.feedforward import Cin26Stylizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--frames", type=int, default=10)
    args = parser.parse_args()
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="vidstyle-any-size-")
    stylizer = Cin26Stylizer(torch.eye(26)[19])
    stylizer.accelerate(compile=True, precision="bf16")
    frame = torch.rand(1, 3, 360, 640, generator=torch.Generator().manual_seed(0))
    digest = network_digest(stylizer._forward, stylizer.net)
    threads_before = torch.get_num_threads()
    cases = [(threads, any_size) for threads in (1, 2) for any_size in (False, True)]
    runs, builds, outputs = {}, {}, {}
    for threads, any_size in cases:
        torch.set_num_threads(threads)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            kernels = AotKernels("cin26 network", stylizer._forward, stylizer.net, digest, (frame, stylizer.style),
                                 any_size=any_size)
        start = time.perf_counter()
        runs[threads, any_size] = kernels.load()  # builds it
        builds[threads, any_size] = time.perf_counter() - start
        outputs[threads, any_size] = runs[threads, any_size](frame, stylizer.style).float()
    times: dict[tuple[int, bool], list[float]] = {case: [] for case in cases}
    for _ in range(args.rounds):
        for threads, any_size in cases:
            torch.set_num_threads(threads)
            run = runs[threads, any_size]
            run(frame, stylizer.style)
            start = time.perf_counter()
            for _ in range(args.frames):
                run(frame, stylizer.style)
            times[threads, any_size].append(1000 * (time.perf_counter() - start) / args.frames)
    torch.set_num_threads(threads_before)
    rows = []
    for threads, any_size in cases:
        ms = statistics.median(times[threads, any_size])
        fixed = statistics.median(times[threads, False])
        rows.append({"threads": threads, "kernels": "any size" if any_size else "640x360 only",
                     "ms per frame": round(ms, 1), "vs fixed size": round(ms / fixed, 2),
                     "build s": round(builds[threads, any_size], 1),
                     "mean |difference| from fixed size": float((outputs[threads, any_size]
                                                                 - outputs[threads, False]).abs().mean())})
    write_results("any_size", rows, ["threads", "kernels", "ms per frame", "vs fixed size", "build s",
                                     "mean |difference| from fixed size"],
                  device=cpu_name(), load_average=os.getloadavg(), network="cin26 bf16", size=[640, 360],
                  rounds={f"{t} {a}": v for (t, a), v in times.items()})


if __name__ == "__main__":
    main()
