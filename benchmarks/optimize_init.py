"""``--method optimize`` started from the preset's feed-forward painting against the content start (issue 10).

On frames of the real clips at 384 px (long side), for painting presets: the total loss at every full-size
L-BFGS iteration of (a) the content start, coarse to fine (scales 0.5 then 1.0, ``--iterations`` each, today's
default) and (b) the preset's network painting of the frame as the start, full size only. "Iteration k" is the
k-th evaluation of the objective at full size (the loss after k-1 steps), the same for both. Reported: the
iterations (b) needs to reach (a)'s last loss, both losses at equal counts, and the wall time of (b) to that
point over (a)'s, network pass included, measured in the same run (ratios only). The CPU is shared, so the
same ratio is also given from best-of timings of one iteration at each size and of the network pass.

Then Ruder's temporal solve on the next frames of one clip, both chains from the same previous output:
disoccluded pixels of the warped init filled from the content (the paper) or from the network's painting.

Writes ``benchmarks/results/optimize_init.{json,md}`` and ``docs/optimize_init.png``: per preset, the first
frame as content | network | (a) at the last iteration | (b) where it reaches (a)'s loss | (b) at the last.
What the sheet looks like is written into the .md by hand after looking at it.

Run from the repository root:  python -m benchmarks.optimize_init [--frames 3] [--temporal-frames 2] [NAME ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import RESULTS, SHARED_DATA, best_ms, device_name, markdown_table, write_results
from vidstyle.cli.styles import write_sheet
from vidstyle.flow.opencv import DisFlow
from vidstyle.io.convert import processing_size, resize, to_tensor, to_uint8
from vidstyle.io.reader import open_source, read_image
from vidstyle.stylize.feedforward import StyleVectorComputer
from vidstyle.stylize.optimize import Network, OptimizeResult, OptimizeSettings, OptimizeStylizer
from vidstyle.stylize.registry import network_stylizer
from vidstyle.stylize.styles import resolve_style
from vidstyle.temporal.ruder import RuderTemporalFilter

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from make_presets import PAINTINGS  # noqa: E402 (the scripts folder is not a package)

# (clip, frame index); the sheet shows the first. The temporal chains run on TEMPORAL_CLIP's next frames.
FRAMES = (("cutBunny.mp4", 60), ("chaplin.mp4", 30), ("fox.mp4", 30))
TEMPORAL_CLIP = "chaplin.mp4"
PRESETS = ("starry_night", "the_wave", "the_scream")  # two learned CIN-26 presets and a Magenta one
COUNTS = (1, 10, 20, 50, 100)  # iterations at which both curves are compared
PROBE = 5  # iterations of the solves that time one iteration
CPU = torch.device("cpu")
SHEET = Path(__file__).resolve().parents[1] / "docs" / "optimize_init.png"
COLUMNS = ("preset", "frame", "loss a", "iterations b to a", "b/a wall to a's loss", "b/a best-of wall to a's loss",
           "b/a wall, same iterations", *(f"b/a loss @{k}" for k in COUNTS[1:]), "diff a,net", "diff b,net", "diff b,a")
TEMPORAL_COLUMNS = ("preset", "frame", "disoccluded", *(f"ff/content fill loss @{k}" for k in COUNTS),
                    "ff fill iterations to content's last")


def read_frames(side: int, extra: int) -> dict[tuple[str, int], torch.Tensor]:
    """(1, 3, h, w) 0..1 frames at ``side`` px long side: FRAMES, and ``extra`` more after TEMPORAL_CLIP's."""
    wanted = {clip: {index} for clip, index in FRAMES}
    start = dict(FRAMES)[TEMPORAL_CLIP]
    wanted[TEMPORAL_CLIP] |= set(range(start, start + extra + 1))
    frames = {}
    for clip, indices in wanted.items():
        for f in open_source(SHARED_DATA / "videos" / clip, max_frames=max(indices) + 1).frames():
            if f.index in indices:
                image = to_tensor(f.image)
                frames[clip, f.index] = resize(image, processing_size(image.shape[-1], image.shape[-2], side))
    return frames


def timed_solve(stylizer: OptimizeStylizer, content: torch.Tensor) -> tuple[OptimizeResult, list[float]]:
    """The solve, and the wall seconds from its start to each objective evaluation (network pass included)."""
    began, seconds = time.perf_counter(), []
    result = stylizer.optimize(content, callback=lambda _: seconds.append(time.perf_counter() - began))
    return result, seconds


def full_size(result: OptimizeResult, seconds: list[float]) -> tuple[list[float], list[float]]:
    """Losses and times of the full-size evaluations (those of the last scale)."""
    kept = [i for i, r in enumerate(result.history) if r.scale == result.history[-1].scale]
    return [result.history[i].total for i in kept], [seconds[i] for i in kept]


def reached(curve: list[float], target: float) -> int | None:
    """The first iteration (1-based) whose loss is at most ``target``."""
    return next((k for k, loss in enumerate(curve, start=1) if loss <= target), None)


def best_costs(painting: torch.Tensor, b: OptimizeStylizer, content: torch.Tensor, scales: tuple[float, ...]) -> dict:
    """Fastest ms (``best_ms``: the least disturbed by other jobs) of one L-BFGS iteration at each scale (a
    PROBE-iteration solve over PROBE, its setup included) and of ``b``'s network pass."""
    probe = OptimizeStylizer(painting, OptimizeSettings(iterations=PROBE, scales=(1.0,)))
    h, w = content.shape[-2:]
    costs = {}
    for scale in scales:
        x = resize(content, (round(w * scale), round(h * scale)))
        costs[scale] = best_ms(lambda x=x: probe.optimize(x), CPU, warmup=1, repeats=3) / PROBE
    return costs | {"network": best_ms(lambda: b.disocclusion_fill(content), CPU)}


def compare(name: str, frame: str, a: OptimizeStylizer, b: OptimizeStylizer, content: torch.Tensor,
            painting: torch.Tensor) -> dict:
    """One frame: both solves, their full-size curves and what the table shows."""
    (res_a, sec_a), (res_b, sec_b) = timed_solve(a, content), timed_solve(b, content)
    loss_a, time_a = full_size(res_a, sec_a)
    loss_b, time_b = full_size(res_b, sec_b)
    n, same = reached(loss_b, loss_a[-1]), len(loss_a)
    net = b.disocclusion_fill(content)
    costs = best_costs(painting, b, content, a.settings.scales)
    best_a = sum(costs[s] for s in a.settings.scales) * a.settings.iterations
    row = {"preset": name, "frame": frame, "loss a": loss_a[-1], "iterations b to a": n if n else f">{len(loss_b)}",
           "b/a wall to a's loss": time_b[n - 1] / time_a[-1] if n else "",
           "b/a best-of wall to a's loss": (costs["network"] + (n or len(loss_b)) * costs[1.0]) / best_a,
           "b/a wall, same iterations": time_b[same - 1] / time_a[-1],
           "diff a,net": float((res_a.image - net).abs().mean()), "diff b,net": float((res_b.image - net).abs().mean()),
           "diff b,a": float((res_b.image - res_a.image).abs().mean()), "seconds a": time_a[-1],
           "seconds b to a": time_b[n - 1] if n else None, "seconds b, same iterations": time_b[same - 1],
           "best ms": {str(k): v for k, v in costs.items()}, "curve a": loss_a, "curve b": loss_b,
           "coarse a": [r.total for r in res_a.history[:-same]], "seconds a, every evaluation": sec_a,
           "seconds b, every evaluation": sec_b}
    row |= {f"b/a loss @{k}": loss_b[k - 1] / loss_a[k - 1] for k in COUNTS[1:] if k <= same}
    print({k: v for k, v in row.items() if not k.startswith(("curve", "coarse a", "seconds"))}, flush=True)
    return row | {"images": (content, net, res_a.image, res_b.image)}


def warm_up(painting: torch.Tensor, network: Network, content: torch.Tensor, *settings: OptimizeSettings) -> None:
    """One iteration of each solve on ``content``, untimed: VGG19 loads and the network runs once first."""
    for s in settings:
        OptimizeStylizer(painting, dataclasses.replace(s, iterations=1), network).optimize(content)


class LoggedSolver:
    """The Ruder filter's TemporalSolver: the stylizer's temporal solve, keeping each frame's history."""

    def __init__(self, stylizer: OptimizeStylizer) -> None:
        self.stylizer = stylizer
        self.curves: list[list[float]] = []
        self.disoccluded: list[float] = []

    def disocclusion_fill(self, content: torch.Tensor) -> torch.Tensor:
        return self.stylizer.disocclusion_fill(content)

    def stylize_with_temporal(self, content: torch.Tensor, init: torch.Tensor, warped_prev: torch.Tensor,
                              mask: torch.Tensor, temporal_weight: float | None = None) -> torch.Tensor:
        result = self.stylizer.optimize(content, init=init, warped_prev=warped_prev, mask=mask,
                                        temporal_weight=temporal_weight)
        self.curves.append([r.total for r in result.history])
        self.disoccluded.append(float(1.0 - mask.mean()))
        return result.image


def temporal_rows(name: str, stylizers: dict[str, OptimizeStylizer], frames: list[torch.Tensor],
                  first: torch.Tensor, start: int) -> list[dict]:
    """Ruder chains over ``frames`` (the first painted as ``first``), one per disocclusion fill."""
    solvers = {}
    for fill, stylizer in stylizers.items():
        solvers[fill] = LoggedSolver(stylizer)
        chain = RuderTemporalFilter(DisFlow(), solvers[fill])
        for frame in frames:
            chain.step(frame, lambda _: first)
    rows = []
    for t, (ff, content) in enumerate(zip(solvers["feedforward"].curves, solvers["content"].curves), start=1):
        rows.append({"preset": name, "frame": f"{TEMPORAL_CLIP}#{start + t}",
                     "disoccluded": solvers["feedforward"].disoccluded[t - 1],
                     **{f"ff/content fill loss @{k}": ff[k - 1] / content[k - 1] for k in COUNTS if k <= len(ff)},
                     "ff fill iterations to content's last": reached(ff, content[-1]) or f">{len(ff)}",
                     "curve ff fill": ff, "curve content fill": content})
        print({k: v for k, v in rows[-1].items() if not k.startswith("curve")}, flush=True)
    return rows


def sheet_tiles(name: str, row: dict, b: OptimizeStylizer, painting: torch.Tensor) -> list[tuple[str, np.ndarray]]:
    """content | network | (a) last | (b) where it reaches (a) | (b) at (a)'s count, for the first frame.

    (b)'s images are solved again to those counts: L-BFGS on the CPU repeats itself, so they are the images
    its curve passed through.
    """
    content, net, image_a, _ = row["images"]
    n, same = row["iterations b to a"], len(row["curve a"])
    n = n if isinstance(n, int) else len(row["curve b"])

    def b_at(iterations: int) -> np.ndarray:
        settings = dataclasses.replace(b.settings, iterations=iterations)
        return to_uint8(OptimizeStylizer(painting, settings, b.network).stylize(content))

    reached_a = "reaches (a)" if isinstance(row["iterations b to a"], int) else "not yet (a)"
    return [(f"{name}: content", to_uint8(content)), ("network (b at 1)", to_uint8(net)),
            (f"(a) content start, {same} it", to_uint8(image_a)), (f"(b) {n} it: {reached_a}", b_at(n)),
            (f"(b) network start, {same} it", b_at(same))]


def summary(rows: list[dict]) -> dict:
    """Over all frames: medians, and (b)'s wall time over (a)'s with every frame's seconds added up."""
    hit = [r for r in rows if isinstance(r["iterations b to a"], int)]

    def total(key: str, picked: list[dict]) -> float | None:
        return sum(r[key] for r in picked) / sum(r["seconds a"] for r in picked) if picked else None

    best = {k: [r["best ms"][k] / r["best ms"]["1.0"] for r in rows] for k in rows[0]["best ms"] if k != "1.0"}
    return {"frames": len(rows), "reached": len(hit),
            "median iterations b to a": float(np.median([r["iterations b to a"] for r in hit])) if hit else None,
            "max iterations b to a": max((r["iterations b to a"] for r in hit), default=None),
            "b/a wall to a's loss": total("seconds b to a", hit), "b/a wall, same iterations":
            total("seconds b, same iterations", rows), "median b/a best-of wall to a's loss":
            float(np.median([r["b/a best-of wall to a's loss"] for r in rows])),
            **{f"median {k} / full-size iteration, best-of": float(np.median(v)) for k, v in best.items()},
            **{f"median b/a loss @{k}": float(np.median([r[f"b/a loss @{k}"] for r in rows])) for k in COUNTS[1:]
               if all(f"b/a loss @{k}" in r for r in rows)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=OptimizeSettings().iterations,
                        help="L-BFGS iterations per scale of (a).")
    parser.add_argument("--b-iterations", type=int, help="Of (b), at full size (default: twice --iterations, "
                        "room to find where it reaches (a)).")
    parser.add_argument("--side", type=int, default=384, help="Long side of the frames (px).")
    parser.add_argument("--frames", type=int, default=len(FRAMES), help="How many of FRAMES to solve.")
    parser.add_argument("--temporal-frames", type=int, default=2, help="Ruder frames after the temporal clip's.")
    parser.add_argument("names", nargs="*", default=list(PRESETS))
    args = parser.parse_args()
    if not (SHARED_DATA / "videos").is_dir():
        raise SystemExit(f"skipped: the real clips are not at {SHARED_DATA / 'videos'}")
    frames = read_frames(args.side, args.temporal_frames)
    start = dict(FRAMES)[TEMPORAL_CLIP]
    settings = OptimizeSettings(iterations=args.iterations)
    rows, temporal, tiles = [], [], []
    for name in args.names:
        painting = to_tensor(read_image(SHARED_DATA / "styles" / PAINTINGS[name][0]))
        network = network_stylizer(resolve_style(name, StyleVectorComputer()), CPU).stylize
        a = OptimizeStylizer(painting, settings, network)
        b = OptimizeStylizer(painting, dataclasses.replace(settings, init="feedforward", iterations=args.b_iterations
                                                           or 2 * args.iterations), network)
        warm_up(painting, network, frames[FRAMES[0]], a.settings, b.settings)
        done = [compare(name, f"{clip}#{index}", a, b, frames[clip, index], painting)
                for clip, index in FRAMES[:args.frames]]
        tiles += sheet_tiles(name, done[0], b, painting)
        rows += [{k: v for k, v in r.items() if k != "images"} for r in done]
        if args.temporal_frames:
            chain = [frames[TEMPORAL_CLIP, start + t] for t in range(args.temporal_frames + 1)]
            # The previous frame both chains continue from: (b)'s painting of it.
            first = next((r["images"][3] for r in done if r["frame"] == f"{TEMPORAL_CLIP}#{start}"), None)
            first = b.stylize(chain[0]) if first is None else first
            fills = {"content": a, "feedforward": OptimizeStylizer(painting, dataclasses.replace(
                settings, init="feedforward"), network)}  # the same iterations for both
            temporal += temporal_rows(name, fills, chain, first, start)
    write_sheet(tiles, SHEET, columns=5)
    meta = {"device": device_name(CPU), "loadavg": os.getloadavg(), "side": args.side,
            "settings": repr(settings), "summary": summary(rows), "temporal": temporal,
            "sheet": str(SHEET.relative_to(SHEET.parents[1]))}
    write_results("optimize_init", rows, COLUMNS, **meta)
    text = (f"{meta['device']}, torch {torch.__version__} ({torch.get_num_threads()} threads); load average "
            f"{meta['loadavg'][0]:.1f}; frames at {args.side} px long side; {settings}.\n\n"
            "(a) content start, scales 0.5 then 1.0; (b) the preset's network painting as the start, full size "
            "only. Iteration k = the k-th objective evaluation at full size. Time ratios: (b)'s time to the "
            "iteration shown (its network pass included) over (a)'s to its last, same run. The CPU was shared, "
            "so beside that: best-of, from the fastest of repeated timings of an iteration at each size and of the "
            "network pass (where (b) never reached (a): at its last iteration). diff x,y: mean absolute "
            "difference of the images, 0..1 ((b) at its last iteration, the network's painting).\n\n"
            + markdown_table(rows, COLUMNS) + "\n\n" + markdown_table([meta["summary"]], list(meta["summary"]))
            + "\n\nRuder's temporal solve (temporal weight 30, DIS flow) on the next frames, both chains from (b)'s "
            f"frame {start}: the loss with disoccluded pixels filled from the network over filled from the "
            "content, at equal iterations.\n\n" + markdown_table(temporal, TEMPORAL_COLUMNS) + "\n")
    (RESULTS / "optimize_init.md").write_text(text)


if __name__ == "__main__":
    main()
