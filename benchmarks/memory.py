"""Where ``vidstyle run``'s memory goes: resident set size after each stage of a render, in one process.

Run from the repository root:  python -m benchmarks.memory [--clip PATH] [--compile]

Reads ``VmRSS`` (now) and ``VmHWM`` (peak so far) of this process from ``/proc/self/status`` (Linux) after:
the interpreter; ``import torch``; OpenCV and PyAV; the rest of vidstyle; loading the network, style and flow
(``build_processor``); preparing the compiled network (with ``--compile``, kernel cache as it is); ten
frames through the processor (temporal on); and a whole render of the clip through ``run_job`` (decode,
queues, flow, network, temporal filter, encode). Writes ``benchmarks/results/memory.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path


def _status_mb() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MB."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, kb = line.split()[:2]
            values[key] = int(kb) / 1024
    return round(values["VmRSS:"], 1), round(values["VmHWM:"], 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clip", type=Path, default=None)
    parser.add_argument("--compile", action="store_true")
    args = parser.parse_args()
    rows = []

    def stage(name: str) -> None:
        rss, peak = _status_mb()
        rows.append({"stage": name, "rss_mb": rss, "peak_mb": peak,
                     "added_mb": round(rss - rows[-1]["rss_mb"], 1) if rows else rss})
        print(rows[-1], flush=True)

    stage("python")
    import torch  # noqa: F401

    stage("import torch")
    import av  # noqa: F401
    import cv2  # noqa: F401

    stage("import cv2, av")
    from vidstyle.io.reader import open_source
    from vidstyle.job import ProcessorSettings, RenderSettings, build_processor, run_job
    from vidstyle.stylize.registry import StyleRequest

    stage("import vidstyle (job, pipeline, stylizers)")
    clip = args.clip or Path(os.environ.get("VIDSTYLE_SHARED_DATA", "../shared/data")) / "videos" / "cutBunny.mp4"
    processing = ProcessorSettings(style=StyleRequest(style="starry_night"), compile=args.compile)
    built = build_processor(processing)
    stage("network, style vector and flow loaded")
    source = open_source(clip, max_frames=10)
    if args.compile:
        built.processor.prepare(source.info.width, source.info.height)
        stage("compiled network prepared")
    for frame in source.frames():
        built.processor.process(frame.image)
    stage("10 frames processed (temporal on)")
    del built
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        run_job(RenderSettings(input=clip, output=Path(tmp) / "out.mp4", processing=processing))
        seconds = time.perf_counter() - start
    stage("whole render (run_job: decode, queues, encode)")
    from benchmarks.common import RESULTS, cpu_name, markdown_table

    table = markdown_table(rows, ["stage", "rss_mb", "added_mb", "peak_mb"])
    print(table)
    meta = {"benchmark": "memory", "date": time.strftime("%Y-%m-%d"), "device": cpu_name(), "clip": clip.name,
            "compile": args.compile, "render_seconds": round(seconds, 1), "load_average": os.getloadavg()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "memory.json").write_text(json.dumps({**meta, "rows": rows}, indent=1))
    (RESULTS / "memory.md").write_text(f"{meta['device']}, {clip.name}, compile={args.compile}, one process "
                                       f"(VmRSS / VmHWM from /proc).\n\n{table}\n")


if __name__ == "__main__":
    main()
