"""The flow estimated beside the network against one after the other: seconds per frame of the temporal
render's processing step (network, DIS flow, temporal math; no decoding or encoding).

Run from the repository root:  python -m benchmarks.flow_overlap [--frames 48] [--rounds 3]
The first ``--frames`` frames of cutBunny (640x360; generated frames when ../shared/data is absent) go
through a ``FrameProcessor`` with the starry_night preset's network (eager, as a short clip runs) and
``FlowTemporalFilter`` on DIS, alternately with ``overlap_flow`` on and off, ``--rounds`` times each;
the table has the median of the rounds. Both give the same frames (tests/temporal/test_consistency.py).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from benchmarks.common import SHARED_DATA, cpu_name, write_results
from vidstyle.flow.opencv import DisFlow
from vidstyle.io.reader import open_source
from vidstyle.processor import FrameProcessor
from vidstyle.stylize.registry import StyleRequest, build_stylizer
from vidstyle.synth import synth_frames
from vidstyle.temporal.consistency import FlowTemporalFilter


def _frames(count: int) -> list[np.ndarray]:
    clip = SHARED_DATA / "videos" / "cutBunny.mp4"
    if clip.is_file():
        return [f.image for f in open_source(clip, max_frames=count).frames()]
    return synth_frames(count, 640, 360)


def _seconds_per_frame(frames: list[np.ndarray], stylizer, overlap: bool) -> float:
    processor = FrameProcessor(stylizer, FlowTemporalFilter(DisFlow(), overlap_flow=overlap), max_side=640)
    processor.process(frames[0])  # the first frame has no flow
    start = time.perf_counter()
    for image in frames[1:]:
        processor.process(image)
    return (time.perf_counter() - start) / (len(frames) - 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    frames = _frames(args.frames)
    stylizer = build_stylizer(StyleRequest(style="starry_night"), torch.device("cpu"))
    stylizer.accelerate(precision="auto")
    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(args.rounds):
        for overlap in (False, True):
            times[overlap].append(_seconds_per_frame(frames, stylizer, overlap))
    after = {k: float(np.median(v)) for k, v in times.items()}
    rows = [{"flow": "one after the other", "ms per frame": 1000 * after[False], "speed-up": 1.0},
            {"flow": "beside the network", "ms per frame": 1000 * after[True], "speed-up": after[False] / after[True]}]
    write_results("flow_overlap", rows, ["flow", "ms per frame", "speed-up"], device=cpu_name(),
                  load_average=os.getloadavg(), frames=len(frames), size=list(frames[0].shape[1::-1]),
                  network=f"{stylizer.name} {stylizer.precision} eager", rounds=times)


if __name__ == "__main__":
    main()
