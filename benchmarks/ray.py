"""Ray benchmark: a chunked render on 1 and 2 local Ray workers against a local render (speed-up and
seam figures), and a model of the speed-up on N machines for 10 minutes of 1080p, per method.

Run from the repository root:  python -m benchmarks.ray [--frames 96]
The clip is generated (vidstyle.synth). This machine has 2 shared cores: the 2-worker figure is what
two cores give while other jobs run (the load average is recorded), not what two machines give; the
model takes the measured per-frame and per-task costs and schedules chunks on N independent machines,
and is checked against the 1- and 2-worker measurements first.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import ray
import torch

from benchmarks.common import SHARED_DATA, cpu_name, write_results
from vidstyle.distributed.driver import render_on_ray
from vidstyle.distributed import DEFAULT_WARMUP_FRAMES
from vidstyle.distributed.plan import Chunk, find_cuts, plan_chunks
from vidstyle.distributed.seams import seam_ratios
from vidstyle.io.reader import open_source
from vidstyle.job import ProcessorSettings, RenderSettings, build_processor, run_job
from vidstyle.stylize.registry import StyleRequest
from vidstyle.synth import synth_frames, write_clip

FEEDFORWARD = ProcessorSettings(style=StyleRequest(style="starry_night"), compile=False)
FILM_FRAMES = 10 * 60 * 24  # 10 minutes at 24 fps
MACHINES = (1, 2, 4, 8, 16, 32, 64)


def schedule_seconds(chunks: list[Chunk], machines: int, frame_s: float, task_s: float) -> float:
    """Wall time of ``chunks`` on ``machines`` that each take the next chunk when free (what Ray does):
    a chunk costs ``task_s`` (start, model loading) plus ``frame_s`` per painted frame, warm-up included."""
    free = [0.0] * machines
    for chunk in chunks:
        i = int(np.argmin(free))
        free[i] += task_s + (chunk.frames + chunk.warmup) * frame_s
    return max(free)


def _ray_render(clip: Path, out: Path, workers: int, chunk_frames: int, warmup: int) -> float:
    ray.shutdown()
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    settings = RenderSettings(input=clip, output=out, processing=FEEDFORWARD, overwrite=True)
    start = time.perf_counter()
    render_on_ray(settings, chunk_frames=chunk_frames, warmup=warmup)
    return time.perf_counter() - start


def _frame_seconds(settings: ProcessorSettings, size: tuple[int, int], frames: int = 3) -> float:
    """Seconds per frame of ``settings``' processor on synthetic frames of ``size`` (after one warm-up)."""
    processor = build_processor(settings).processor
    images = synth_frames(frames + 1, *size)
    processor.process(images[0])
    start = time.perf_counter()
    for image in images[1:]:
        processor.process(image)
    return (time.perf_counter() - start) / frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=96)
    parser.add_argument("--chunk-frames", type=int, default=24)
    args = parser.parse_args()
    # seconds per frame at 1080p for each method (2 threads, as a local render), measured first
    painting = SHARED_DATA / "styles" / "starry_night.jpg"
    optimize = ProcessorSettings(style=StyleRequest(style=str(painting), method="optimize", iterations=2))
    per_frame = {"feed-forward (Magenta, 640 px processing)": _frame_seconds(FEEDFORWARD, (1920, 1080), 2)}
    if painting.is_file():
        per_frame["optimize (Gatys/Ruder, 100 iterations)"] = _frame_seconds(optimize, (1920, 1080), 1) * 50
    tmp = Path(tempfile.mkdtemp(prefix="vidstyle-ray-"))
    big = open_source(write_clip(tmp / "1080p.mp4", synth_frames(24, 1920, 1080), fps=24, audio_codec=None))
    start = time.perf_counter()
    find_cuts(big)
    cut_pass_s = (time.perf_counter() - start) / 24  # the cut pre-pass, seconds per 1080p frame
    print("seconds per 1080p frame:", per_frame, "cut pre-pass", cut_pass_s, flush=True)
    clip = write_clip(tmp / "clip.mp4", synth_frames(args.frames, 320, 180), fps=24)
    source = open_source(clip)
    start = time.perf_counter()
    chunks = plan_chunks(source.count_frames(), find_cuts(source), args.chunk_frames, DEFAULT_WARMUP_FRAMES)
    plan_s = time.perf_counter() - start

    start = time.perf_counter()  # model loading included, as in the Ray runs
    run_job(RenderSettings(input=clip, output=tmp / "local.mp4", processing=FEEDFORWARD))
    local = time.perf_counter() - start
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # what a Ray task with one CPU gets
    frame_s = _frame_seconds(FEEDFORWARD, (320, 180))
    seconds = {w: _ray_render(clip, tmp / f"ray{w}.mp4", w, args.chunk_frames, DEFAULT_WARMUP_FRAMES) for w in (1, 2)}
    cold = tmp / "cold.mp4"
    _ray_render(clip, cold, 2, args.chunk_frames, 0)
    ray.shutdown()
    torch.set_num_threads(threads)
    # per-task cost, fitted on the 1-worker run; the model then predicts the 2-worker run
    painted = sum(c.frames + c.warmup for c in chunks)
    task_s = max(0.0, (seconds[1] - plan_s - painted * frame_s) / len(chunks))
    seams = [c.first for c in chunks if c.warmup]
    warm, cold_ratios = seam_ratios(clip, tmp / "ray2.mp4", seams), seam_ratios(clip, cold, seams)
    rows = [{"run": "local (2 threads)", "workers": 1, "seconds": local, "speed-up": 1.0, "model s": ""}]
    for w in (1, 2):
        rows.append({"run": f"ray, {w} worker{'s' * (w > 1)}", "workers": w, "seconds": seconds[w],
                     "speed-up": local / seconds[w],
                     "model s": plan_s + schedule_seconds(chunks, w, frame_s, task_s)})
    rows.append({"run": f"seam ratio, warm-up {DEFAULT_WARMUP_FRAMES} (median, max)", "workers": 2,
                 "seconds": float(np.median(warm)), "speed-up": float(max(warm)), "model s": ""})
    rows.append({"run": "seam ratio, no warm-up (median, max)", "workers": 2, "seconds": float(np.median(cold_ratios)),
                 "speed-up": float(max(cold_ratios)), "model s": ""})

    film = plan_chunks(FILM_FRAMES, [], 240, DEFAULT_WARMUP_FRAMES)
    plan_film_s = cut_pass_s * FILM_FRAMES
    model = []
    for method, fs in per_frame.items():
        one = FILM_FRAMES * fs
        for n in MACHINES:
            wall = plan_film_s + schedule_seconds(film, n, fs, task_s)
            model.append({"method": method, "machines": n, "s per frame": fs, "hours": wall / 3600,
                          "speed-up": one / wall})
    print()
    write_results("ray", rows, ["run", "workers", "seconds", "speed-up", "model s"],
                  device=cpu_name(), load_average=os.getloadavg(), clip=f"{args.frames} frames 320x180 synthetic",
                  chunk_frames=args.chunk_frames, warmup_frames=DEFAULT_WARMUP_FRAMES, chunks=len(chunks),
                  frame_seconds_one_thread=frame_s, task_seconds=task_s, plan_seconds=plan_s,
                  cut_pass_seconds_per_1080p_frame=cut_pass_s, seconds_per_1080p_frame=per_frame,
                  seam_ratios_warm=warm, seam_ratios_cold=cold_ratios, model_10min_1080p=model,
                  note="shared 2-core VM loaded by other jobs: timings noisy; the model assumes "
                       "independent machines (240-frame chunks, one task per machine at a time)")
    for row in model:
        print(f"{row['method']:45s} {row['machines']:3d} machines: {row['hours']:7.2f} h, "
              f"speed-up {row['speed-up']:5.1f}x")


if __name__ == "__main__":
    main()
