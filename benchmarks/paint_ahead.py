"""Painting frame t+1 beside frame t's temporal step against one after the other: milliseconds per frame
of ``render_segment`` (decoding thread, network, DIS flow, temporal step; frames discarded, not encoded).

Run from the repository root:  python -m benchmarks.paint_ahead [--frames 96] [--rounds 3]
The first ``--frames`` frames of cutBunny (640x360; generated frames when ../shared/data is absent) go
through ``render_segment`` with the starry_night preset's network and ``FlowTemporalFilter`` on DIS:
one after the other on all of torch's threads, as before, and painting ahead with half of them each
(:func:`vidstyle.job.paint_ahead`), with the network uncompiled (a short clip at a new size) and
compiled (its kernels are built first where missing: ~25 s for each thread count), alternately,
``--rounds`` times each; the table has the median of the rounds. Both give the same frames to the
kernels' rounding (tests/pipeline/test_segment.py).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import SHARED_DATA, cpu_name, write_results
from vidstyle.flow.factory import build_flow
from vidstyle.io.reader import FrameSource, ImageSequenceSource, open_source
from vidstyle.io.writer import write_image
from vidstyle.pipeline import render_segment
from vidstyle.pipeline.stages import FrameMessage
from vidstyle.processor import FrameProcessor
from vidstyle.stylize.registry import StyleRequest, build_stylizer
from vidstyle.synth import synth_frames
from vidstyle.temporal.consistency import FlowTemporalFilter


class _Discard:
    """A sink that keeps nothing (encoding is not what is measured)."""

    def is_seam(self, index: int) -> bool:
        return False

    def consume(self, messages: Iterator[FrameMessage]) -> None:
        for _ in messages:
            pass


def _source(count: int, folder: Path) -> FrameSource:
    clip = SHARED_DATA / "videos" / "cutBunny.mp4"
    if clip.is_file():
        return open_source(clip, max_frames=count)
    for i, image in enumerate(synth_frames(count, 640, 360)):
        write_image(folder / f"f{i:04d}.png", image)
    return ImageSequenceSource(folder / "f%04d.png")


def _ms_per_frame(source: FrameSource, compiled: bool, ahead: bool, threads: int) -> float:
    stylizer = build_stylizer(StyleRequest(style="starry_night"), torch.device("cpu"))
    stylizer.accelerate(compile=compiled, precision="auto")
    processor = FrameProcessor(stylizer, FlowTemporalFilter(build_flow("dis")), max_side=640)
    if ahead:
        processor.paint_ahead(threads // 2)
    info = source.info
    processor.prepare(info.width, info.height)  # builds or loads the kernels, outside the timing
    frames = []
    start = time.perf_counter()
    render_segment(source, (0, None), {}, _Discard(), processor=processor, on_frame=frames.append)
    return 1000 * (time.perf_counter() - start) / len(frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=96)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    threads = torch.get_num_threads()
    source = _source(args.frames, Path(tempfile.mkdtemp(prefix="vidstyle-paint-ahead-")))
    cases = [(compiled, ahead) for compiled in (False, True) for ahead in (False, True)]
    times: dict[str, list[float]] = {f"{c} {a}": [] for c, a in cases}
    with torch.no_grad():
        for _ in range(args.rounds):
            for compiled, ahead in cases:
                times[f"{compiled} {ahead}"].append(_ms_per_frame(source, compiled, ahead, threads))
                print(compiled, ahead, round(times[f"{compiled} {ahead}"][-1], 1), flush=True)
    median = {k: float(np.median(v)) for k, v in times.items()}
    rows = []
    for compiled, ahead in cases:
        ms = median[f"{compiled} {ahead}"]
        rows.append({"network": "compiled" if compiled else "uncompiled",
                     "frames": f"painted ahead, {threads // 2} thread(s) each" if ahead
                     else f"one after the other, {threads} threads",
                     "ms per frame": ms, "speed-up": median[f"{compiled} False"] / ms})
    write_results("paint_ahead", rows, ["network", "frames", "ms per frame", "speed-up"], device=cpu_name(),
                  load_average=os.getloadavg(), frames=args.frames, size=[640, 360], rounds=times)


if __name__ == "__main__":
    main()
