"""Ray benchmark: a chunked render on 1 and 2 local Ray workers against a local render (speed-up and
seam figures), and a model of the speed-up on N machines for 10 minutes of 1080p, per method.

Run from the repository root:  python -m benchmarks.ray [--clip PATH] [--chunk-frames 105]
The clip is ``fox.mp4`` of ../shared/data/videos (420 real frames; a generated clip when it is absent).
This machine has 2 cores: the 2-worker figure is what two single-thread workers get while the driver
and Ray's own processes share those cores, not what two machines give. The model takes the measured
per-frame and per-task costs and schedules chunks on N independent machines; it is checked against
the 1- and 2-worker measurements first. Seams are measured on the output (pairs at each chunk start and
over its dissolve) and, as the baseline, at the same frames of a local render whose segments end there
(each segment starts with a key frame, whose coding noise is a small jump of its own on still areas).
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

from benchmarks.common import SHARED_DATA, cpu_name, markdown_table, write_results
from vidstyle.distributed.driver import render_on_ray
from vidstyle.distributed import DEFAULT_CHUNK_FRAMES, DEFAULT_WARMUP_FRAMES
from vidstyle.distributed.plan import Chunk, find_cuts, plan_chunks
from vidstyle.distributed.seams import seam_ratios
from vidstyle.io.reader import open_source
from vidstyle.job import ProcessorSettings, RenderSettings, build_processor, run_job
from vidstyle.stylize.registry import StyleRequest
from vidstyle.synth import synth_frames, write_clip

FEEDFORWARD = ProcessorSettings(style=StyleRequest(style="starry_night"), compile=False)
FILM_FRAMES = 10 * 60 * 24  # 10 minutes at 24 fps
MACHINES = (1, 2, 4, 8, 16, 32, 64)


def painted_frames(chunk: Chunk) -> int:
    """Frames a chunk's task paints: its warm-up, its own frames and the tail it paints for the dissolve."""
    return chunk.warmup + chunk.frames + chunk.tail


def schedule_seconds(chunks: list[Chunk], machines: int, frame_s: float, task_s: float) -> float:
    """Wall time of ``chunks`` on ``machines`` that each take the next chunk when free (what Ray does):
    a chunk costs ``task_s`` (start, model loading) plus ``frame_s`` per painted frame."""
    free = [0.0] * machines
    for chunk in chunks:
        i = int(np.argmin(free))
        free[i] += task_s + painted_frames(chunk) * frame_s
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


def _seams(clip: Path, output: Path, seams: list[int], warmup: int) -> dict:
    pairs, dissolve = seam_ratios(clip, output, seams, windows=(1, max(warmup, 1)))
    return {"pair median": float(np.median(pairs)), "pair max": float(max(pairs)),
            "dissolve max": float(max(dissolve)), "pairs": pairs, "dissolves": dissolve}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clip", type=Path, default=SHARED_DATA / "videos" / "fox.mp4")
    parser.add_argument("--chunk-frames", type=int, default=105)
    args = parser.parse_args()
    warmup = DEFAULT_WARMUP_FRAMES
    # seconds per frame at 1080p for each method (2 threads, as a local render), measured first
    painting = SHARED_DATA / "styles" / "starry_night.jpg"
    optimize = ProcessorSettings(style=StyleRequest(style=str(painting), method="optimize", iterations=2))
    per_frame = {"feed-forward (starry_night preset, 640 px processing)": _frame_seconds(FEEDFORWARD, (1920, 1080), 2)}
    if painting.is_file():
        per_frame["optimize (Gatys/Ruder, 100 iterations)"] = _frame_seconds(optimize, (1920, 1080), 1) * 50
    tmp = Path(tempfile.mkdtemp(prefix="vidstyle-ray-"))
    big = open_source(write_clip(tmp / "1080p.mp4", synth_frames(24, 1920, 1080), fps=24, audio_codec=None))
    start = time.perf_counter()
    find_cuts(big)
    cut_pass_s = (time.perf_counter() - start) / 24  # the cut pre-pass, seconds per 1080p frame
    print("seconds per 1080p frame:", per_frame, "cut pre-pass", cut_pass_s, flush=True)
    clip = args.clip if args.clip.is_file() else write_clip(tmp / "clip.mp4", synth_frames(480, 320, 180), fps=24)
    source = open_source(clip)
    start = time.perf_counter()
    chunks = plan_chunks(source.count_frames(), find_cuts(source), args.chunk_frames, warmup)
    plan_s = time.perf_counter() - start
    seams = [c.first for c in chunks if c.warmup]

    start = time.perf_counter()  # model loading included, as in the Ray runs
    local = tmp / "local.mp4"
    run_job(RenderSettings(input=clip, output=local, processing=FEEDFORWARD, segment_frames=args.chunk_frames))
    local_s = time.perf_counter() - start
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # what a Ray task with one CPU gets
    frame_s = _frame_seconds(FEEDFORWARD, (source.info.width, source.info.height))
    seconds = {w: _ray_render(clip, tmp / f"ray{w}.mp4", w, args.chunk_frames, warmup) for w in (1, 2)}
    cold = tmp / "cold.mp4"
    cold_s = _ray_render(clip, cold, 2, args.chunk_frames, 0)
    ray.shutdown()
    torch.set_num_threads(threads)
    # per-task cost, fitted on the 1-worker run; the model then predicts the 2-worker run
    painted = sum(painted_frames(c) for c in chunks)
    task_s = max(0.0, (seconds[1] - plan_s - painted * frame_s) / len(chunks))
    cold_chunks = plan_chunks(source.count_frames(), find_cuts(source), args.chunk_frames, 0)
    seam_rows = {"local render, segment boundaries": _seams(clip, local, seams, 1),
                 f"ray, warm-up and dissolve {warmup}": _seams(clip, tmp / "ray2.mp4", seams, warmup),
                 "ray, cold chunks (no warm-up)": _seams(clip, cold, seams, 1)}
    rows = [{"run": "local (2 threads)", "workers": 1, "seconds": local_s, "speed-up": 1.0, "model s": ""}]
    for w in (1, 2):
        rows.append({"run": f"ray, {w} worker{'s' * (w > 1)}", "workers": w, "seconds": seconds[w],
                     "speed-up": local_s / seconds[w],
                     "model s": plan_s + schedule_seconds(chunks, w, frame_s, task_s)})
    rows.append({"run": "ray, 2 workers, cold chunks", "workers": 2, "seconds": cold_s, "speed-up": local_s / cold_s,
                 "model s": plan_s + schedule_seconds(cold_chunks, 2, frame_s, task_s)})
    seam_table = [{"render": name, **{k: v for k, v in figures.items() if k not in ("pairs", "dissolves")}}
                  for name, figures in seam_rows.items()]

    film = plan_chunks(FILM_FRAMES, [], DEFAULT_CHUNK_FRAMES, warmup)
    plan_film_s = cut_pass_s * FILM_FRAMES
    model = []
    for method, fs in per_frame.items():
        one = FILM_FRAMES * fs
        for n in MACHINES:
            wall = plan_film_s + schedule_seconds(film, n, fs, task_s)
            model.append({"method": method, "machines": n, "s per frame": fs, "hours": wall / 3600,
                          "speed-up": one / wall})
    path = write_results("ray", rows, ["run", "workers", "seconds", "speed-up", "model s"],
                  device=cpu_name(), load_average=os.getloadavg(),
                  clip=f"{clip.name}: {source.count_frames()} frames {source.info.width}x{source.info.height}",
                  chunk_frames=args.chunk_frames, warmup_frames=warmup, chunks=len(chunks), painted_frames=painted,
                  frame_seconds_one_thread=frame_s, task_seconds=task_s, plan_seconds=plan_s,
                  cut_pass_seconds_per_1080p_frame=cut_pass_s, seconds_per_1080p_frame=per_frame,
                  seams=seam_rows, seam_table=seam_table, model_10min_1080p=model,
                  note="2-core VM: the 2-worker run shares its cores with the driver and Ray; the model assumes "
                       f"independent machines ({DEFAULT_CHUNK_FRAMES}-frame chunks, one task per machine at a time)")
    seam_md = markdown_table(seam_table, ["render", "pair median", "pair max", "dissolve max"])
    print(seam_md)
    with path.with_suffix(".md").open("a") as md:
        md.write("\nSeam ratios (warping error of the change at a chunk start, or the largest over its dissolve, "
                 "over the median of the 4 changes on each side):\n\n" + seam_md + "\n")
    for row in model:
        print(f"{row['method']:55s} {row['machines']:3d} machines: {row['hours']:7.2f} h, "
              f"speed-up {row['speed-up']:5.1f}x")


if __name__ == "__main__":
    main()
