"""Live-camera benchmark: frame rate and latency of ``vidstyle webcam`` on this machine's CPU.

Run from the repository root:  python -m benchmarks.webcam [--style NAME] [--seconds S]

The camera is ``$VIDSTYLE_SHARED_DATA/videos/cutBunny.mp4`` (640x360, 24 fps; a generated clip when the
shared data is absent) played in real time as a camera (``FileCameraSource``), resized to each capture
size: 320x240 and 640x360. For each size, temporal filter on and off, and processing size adaptive
(``--target-fps``, the webcam default) or fixed at the capture size, the live loop (``run_live``: capture
thread, newest-frame mailbox, the same ``FrameProcessor`` as ``vidstyle run``) runs for ``--seconds``
of the clip after a warm-up of 3 frames, headless (no window, no recording), with the webcam's torch
thread count (``live_cpu_threads``: all cores but one).

Columns: fps = frames shown per second; latency = shown time - capture time (median, p95); dropped =
captured frames never shown; side = the processing size (long side) at the end; CPU ms = process CPU
time per shown frame (all threads: decoding included), comparable on a busy machine, unlike wall time.
The source plays at 24 fps, so no row can exceed 24 fps. The machine is shared: the 1-minute load
average is recorded beside each row.

Prints a markdown table and writes ``benchmarks/results/webcam.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import cv2
import torch

from benchmarks.common import SHARED_DATA, cpu_name
from benchmarks.common import RESULTS as RESULTS_DIR
from vidstyle.build import ProcessorSettings, build_processor
from vidstyle.device import describe
from vidstyle.io.camera import FileCameraSource
from vidstyle.live.adaptive import AdaptiveSize
from vidstyle.live.controls import LiveControls
from vidstyle.live.loop import run_live
from vidstyle.live.session import live_cpu_threads
from vidstyle.stylize.nets import CIN26_STYLE_NAMES
from vidstyle.stylize.registry import StyleRequest
from vidstyle.synth import synth_frames, write_clip

RESULTS = RESULTS_DIR / "webcam.json"
SIZES = ((320, 240), (640, 360))  # (width, height)
GOAL_FPS = 15.0  # at 320x240 with the temporal filter on


def source_clip(tmp: Path) -> Path:
    clip = SHARED_DATA / "videos" / "cutBunny.mp4"
    if clip.is_file():
        return clip
    return write_clip(tmp / "synth.mp4", synth_frames(240, 640, 360), fps=24, audio_codec=None)


def measure(clip: Path, style: str, size: tuple[int, int], *, temporal: bool, target_fps: float,
            max_frames: int) -> dict:
    built = build_processor(ProcessorSettings(style=StyleRequest(style=style), device="cpu", temporal=temporal,
                                              max_side=max(size)))
    processor = built.processor
    warm = FileCameraSource(clip, size=size, realtime=False)
    for frame, _ in zip(warm.frames(), range(3)):
        processor.process(frame.image)
    processor.reset()
    adaptive = AdaptiveSize(max(size), target_fps=target_fps) if target_fps > 0 else None
    controls = LiveControls(processor, StyleRequest(style=style))
    cpu0 = time.process_time()
    result = run_live(FileCameraSource(clip, size=size), processor, controls, max_frames=max_frames,
                      adaptive=adaptive)
    cpu = time.process_time() - cpu0
    s = result.summary
    return {"size": f"{size[0]}x{size[1]}", "temporal": temporal, "adaptive": adaptive is not None,
            "target_fps": target_fps, **s, "processing_side": result.processing_side,
            "size_changes": result.size_changes, "cpu_ms_per_frame": 1000.0 * cpu / max(s["frames_shown"], 1),
            "flow": built.flow_name, "load_average_1min": os.getloadavg()[0]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--style", default=CIN26_STYLE_NAMES[0], help="preset or image (default: a CIN-26 style)")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of the clip per row")
    parser.add_argument("--target-fps", type=float, default=15.0, help="target of the adaptive rows")
    args = parser.parse_args(argv)
    torch.set_num_threads(live_cpu_threads())  # as `vidstyle webcam` does on a CPU
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        clip = source_clip(Path(tmp))
        max_frames = int(args.seconds * 24)
        for size in SIZES:
            for temporal in (True, False):
                for target in (args.target_fps, 0.0):
                    row = measure(clip, args.style, size, temporal=temporal, target_fps=target,
                                  max_frames=max_frames)
                    rows.append(row)
                    print(f"  {row['size']} temporal={temporal} target={target:g}: {row['fps']:.1f} fps",
                          flush=True)
    print()
    print(f"CPU: {cpu_name()}, torch {torch.__version__}, style {args.style}")
    print()
    print("| capture | temporal | processing size | side at end | fps | latency median ms | latency p95 ms "
          "| dropped / captured | CPU ms/frame | load |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        mode = f"adaptive ({r['target_fps']:g} fps)" if r["adaptive"] else "fixed"
        print(f"| {r['size']} | {'on' if r['temporal'] else 'off'} | {mode} | {r['processing_side']} "
              f"| {r['fps']:.1f} | {r['latency_ms_median']:.0f} | {r['latency_ms_p95']:.0f} "
              f"| {r['frames_dropped']} / {r['frames_captured']} | {r['cpu_ms_per_frame']:.0f} "
              f"| {r['load_average_1min']:.1f} |")
    goal = next(r for r in rows if r["size"] == "320x240" and r["temporal"] and r["adaptive"])
    print(f"\ngoal >= {GOAL_FPS:g} fps at 320x240, temporal on: {goal['fps']:.1f} fps "
          f"({'met' if goal['fps'] >= GOAL_FPS else 'not met'})")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "device": f"CPU {cpu_name()}", "torch_device": describe(torch.device("cpu")),
        "torch": torch.__version__, "opencv": cv2.__version__, "torch_threads": torch.get_num_threads(),
        "style": args.style, "source": clip.name if clip.parent != Path(tmp) else "synth 640x360 24 fps",
        "seconds_per_row": args.seconds, "goal_fps_320x240_temporal": GOAL_FPS, "rows": rows,
    }, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
