"""I/O benchmark: decode, encode and whole-pipeline fps (identity stylizer) at 640x360 and 1280x720,
and how much of a real stylizer's speed the pipeline keeps (goal >= 0.85: I/O hides behind compute).

Run from the repository root:  python -m benchmarks.io [--frames N]
Clips are generated (vidstyle.synth), so the figures do not depend on ../shared/data.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.common import cpu_name, write_results
from vidstyle.io.reader import open_source
from vidstyle.io.writer import EncodeSettings, SegmentEncoder
from vidstyle.pipeline import render
from vidstyle.processor import FrameProcessor
from vidstyle.resume import WorkDir
from vidstyle.stylize.base import IdentityStylizer
from vidstyle.synth import synth_frames, write_clip

SIZES = ((640, 360), (1280, 720))


def _fps(frames: int, fn) -> float:
    start = time.perf_counter()
    fn()
    return frames / (time.perf_counter() - start)


def _pipeline_fps(clip: Path, processor: FrameProcessor, tmp: Path, name: str) -> float:
    work = WorkDir(tmp / f"{name}.work", {"bench": name}, resume=False, overwrite=True)
    result = render(open_source(clip), processor, tmp / f"{name}.mp4", work)
    (tmp / f"{name}.mp4").unlink()
    return result.fps


def _stylizer_fps(clip: Path, processor: FrameProcessor) -> float:
    frames = [f.image for f in open_source(clip).frames()]
    processor.process(frames[0])  # warm-up
    return _fps(len(frames), lambda: [processor.process(f) for f in frames])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=48)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for w, h in SIZES:
            clip = write_clip(tmp / f"clip_{w}.mp4", synth_frames(args.frames, w, h), fps=24)
            info = open_source(clip).info
            decode = _fps(args.frames, lambda: list(open_source(clip).frames()))
            images = list(open_source(clip).frames())

            def encode() -> None:
                with SegmentEncoder(tmp / "enc.mov", info, EncodeSettings()) as enc:
                    for f in images:
                        enc.write(f.image, f.pts)

            encode_fps = _fps(args.frames, encode)
            identity = _pipeline_fps(clip, FrameProcessor(IdentityStylizer(), None, max_side=None), tmp, "id")
            row = {"size": f"{w}x{h}", "decode fps": decode, "encode fps": encode_fps,
                   "pipeline fps (identity)": identity}
            if w == 640:
                from vidstyle.build import ProcessorSettings, build_processor
                from vidstyle.stylize.registry import StyleRequest

                settings = ProcessorSettings(style=StyleRequest("starry_night"), device="cpu", temporal=False)
                real = build_processor(settings).processor
                alone = _stylizer_fps(clip, real)
                piped = _pipeline_fps(clip, build_processor(settings).processor, tmp, "real")
                row.update({"stylizer-only fps": alone, "pipeline fps (stylizer)": piped,
                            "pipeline / stylizer": piped / alone})
            rows.append(row)
    write_results("io", rows, ["size", "decode fps", "encode fps", "pipeline fps (identity)",
                               "stylizer-only fps", "pipeline fps (stylizer)", "pipeline / stylizer"],
                  device=cpu_name(), frames=args.frames, torch_version=torch.__version__)


if __name__ == "__main__":
    main()
