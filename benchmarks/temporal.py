"""Temporal-consistency benchmark: per-frame vs temporal stylization through the whole pipeline.

Run from the repository root:  python -m benchmarks.temporal [--frames N] [--clips NAME ...] [--no-sintel]
(`--clips` with no name: only the Sintel ground-truth table).

For each clip in ``$VIDSTYLE_SHARED_DATA`` (default ``<repo>/../shared/data``; missing ones are skipped):
the first ``--frames`` frames go through ``vidstyle.pipeline.render`` (decode, stylize at long side 640,
encode H.264 crf 18) with the Magenta stylizer and The Starry Night, once per frame (``--no-temporal``)
and once with ``FlowTemporalFilter`` for each flow method (DIS, Farneback, and DIS with
``--long-term``). The encoded output is then measured the way the outside checks do (CONTRACT.md,
``../shared/tools/vsmeasure.py``):

- warp: mean warping error at width 480 with Farneback flow on the input and Ruder's forward-backward
  mask (the reference mask, without the motion-boundary term ``vidstyle.metrics`` adds); "/input" is
  its ratio to the input video's own warping error, "/per-frame" the ratio to the per-frame output's;
- style / content: VGG19 Gram distance to the painting and relu4_2 distance to the input, at width
  384, mean over 8 frames spread over the clip, as ratios to the per-frame output's;
- fps: frames per second of the whole render (wall clock, a shared machine: noisy), and CPU ms per
  frame (process CPU time, all threads), which waiting for a core does not inflate.

Sintel ground truth (``flow/sintel_*``, clean and final): frames 1..3 stylized per frame and with the
temporal filter (DIS) at processing long side 640 and at 1024 (full size: motion up to 46 px), warping
error of the pair 2 -> 3 under the ground-truth flow, as vsmeasure ``pair`` computes it (every valid
pixel, bilinear, outside samples black).

Writes ``benchmarks/results/temporal.{json,md}``, ``temporal_strip.png`` (input | per-frame | temporal
at three time points of the first clip) and ``flicker.png`` (warping error of every frame pair, per
clip, per-frame in red and temporal in green).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from benchmarks.common import RESULTS, SHARED_DATA, cpu_name, markdown_table
from vidstyle.flow.factory import build_flow
from vidstyle.flow.flo import read_flo
from vidstyle.flow.opencv import FarnebackFlow
from vidstyle.flow.warp import backward_warp, flow_in_frame
from vidstyle.io.reader import open_source, read_image
from vidstyle.io.writer import write_image
from vidstyle.job import paint_ahead
from vidstyle.pipeline import render
from vidstyle.processor import FrameProcessor
from vidstyle.resume import WorkDir
from vidstyle.stylize.feedforward import MagentaStylizer, StyleVectorComputer
from vidstyle.stylize.losses import content_distance, style_distance
from vidstyle.stylize.registry import StyleRequest, build_stylizer
from vidstyle.stylize.vgg import load_vgg19
from vidstyle.temporal.consistency import FlowTemporalFilter, settings_for
from vidstyle.temporal.longterm import LONG_TERM_FRAMES

CLIPS = {
    "cutBunny": "videos/cutBunny.mp4",
    "chaplin": "videos/chaplin.mp4",
    "fox": "videos/fox.mp4",  # research-only footage: measured here, never shipped
    "sintel_alley_1": "sequences/sintel_alley_1_raft_demo",
}
GT_SCENES = ("alley_1", "cave_2")
STYLE = "styles/starry_night.jpg"
MAX_SIDE = 640
FLOWS = ("dis", "farneback")
# Sintel at the default processing size and at its full 1024 px width: cave_2's motion reaches 29 px
# per frame at 640 and 46 px at 1024 (the large displacements).
GT_SIDES = (MAX_SIDE, 1024)
WARP_WIDTH, STYLE_WIDTH, STYLE_FRAMES = 480, 384, 8
INVALID_FLOW = 1e9  # Sintel marks unknown flow with magnitudes at least this large


# ---------------------------------------------------------------- measurements (CONTRACT.md)
def _fit_width(image: np.ndarray, width: int) -> np.ndarray:
    """uint8 (H, W, 3) -> float32 0..1 at ``width``, height rounded to even (as the reference does)."""
    if image.shape[1] != width:
        height = int(round(image.shape[0] * width / image.shape[1] / 2) * 2)
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    return image.astype(np.float32) / 255.0


def _tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).unsqueeze(0)


def reference_warp_errors(inputs: list[np.ndarray], outputs: list[np.ndarray]) -> tuple[list[float], list[float]]:
    """Per pair t-1 -> t: warping error of ``outputs`` and of ``inputs`` (uint8 frames), as vsmeasure.

    Flow from the inputs at width 480 (Farneback with the reference parameters); the mask is Ruder's
    forward-backward test |w + ŵ|² <= 0.01(|w|² + |ŵ|²) + 0.5 and the in-frame test, nothing else.
    """
    flow = FarnebackFlow()
    ins = [_tensor(_fit_width(f, WARP_WIDTH)) for f in inputs]
    outs = [_tensor(_fit_width(f, WARP_WIDTH)) for f in outputs]
    err_out, err_in = [], []
    for t in range(1, min(len(ins), len(outs))):
        a, b = ins[t - 1], ins[t]
        bwd, fwd = flow(b, a), flow(a, b)
        fwd_at = backward_warp(fwd, bwd)
        round_trip = (bwd + fwd_at).square().sum(1, keepdim=True)
        limit = 0.01 * (bwd.square().sum(1, keepdim=True) + fwd_at.square().sum(1, keepdim=True)) + 0.5
        mask = (round_trip <= limit).float() * flow_in_frame(bwd)
        denom = max(float(mask.sum()) * 3, 1.0)
        err_out.append(float((mask * (outs[t] - backward_warp(outs[t - 1], bwd)).square()).sum()) / denom)
        err_in.append(float((mask * (b - backward_warp(a, bwd)).square()).sum()) / denom)
    return err_out, err_in


def style_and_content(outputs: list[np.ndarray], inputs: list[np.ndarray], style: torch.Tensor, vgg) -> tuple[float, float]:
    """Mean style and content distance over STYLE_FRAMES frames spread over the clip."""
    picks = np.linspace(0, len(outputs) - 1, STYLE_FRAMES).round().astype(int)
    s, c = [], []
    for i in picks:
        out = _tensor(_fit_width(outputs[i], STYLE_WIDTH))
        s.append(style_distance(out, style, vgg))
        c.append(content_distance(out, _tensor(_fit_width(inputs[i], STYLE_WIDTH)), vgg))
    return float(np.mean(s)), float(np.mean(c))


def style_target(painting: np.ndarray) -> torch.Tensor:
    """The painting (uint8 RGB) as the style measure compares with: long side STYLE_WIDTH, (1, 3, H, W) 0..1."""
    scale = STYLE_WIDTH / max(painting.shape[:2])
    size = (round(painting.shape[1] * scale), round(painting.shape[0] * scale))
    return _tensor(cv2.resize(painting, size, interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0)


def gt_pair_error(frames_out: list[np.ndarray], gt: np.ndarray) -> float:
    """vsmeasure ``pair``: |out_2 - out_3(x + flow)|² over valid pixels; outputs uint8 (H, W, 3)."""
    a, b = (f.astype(np.float32) / 255.0 for f in frames_out[1:3])
    valid = (np.abs(gt) < INVALID_FLOW).all(-1)
    flow = np.where(valid[..., None], gt, 0).astype(np.float32)
    h, w = flow.shape[:2]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    b_at = cv2.remap(b, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR)
    m = valid[..., None].astype(np.float32)
    return float((m * (b_at - a) ** 2).sum() / max(float(m.sum()) * 3, 1.0))


# ---------------------------------------------------------------- runs
def _processor(stylizer, flow: str | None, long_term: bool = False, max_side: int = MAX_SIDE) -> FrameProcessor:
    """As ``vidstyle run`` builds it: on a CPU a temporal render paints ahead."""
    settings = settings_for(stylizer.name, long_term=LONG_TERM_FRAMES if long_term else ())
    temporal = None if flow is None else FlowTemporalFilter(build_flow(flow), settings)
    processor = FrameProcessor(stylizer, temporal, max_side=max_side)
    paint_ahead(processor, stylizer.device, "feedforward", temporal is not None)
    return processor


def run_clip(path: Path, frames: int, stylizer, tmp: Path, flow: str | None, long_term: bool = False) -> dict:
    """Render ``frames`` frames; returns the decoded output, wall fps and CPU ms per frame."""
    name = f"{path.stem}_{flow or 'per_frame'}{'_long' if long_term else ''}"
    output = tmp / f"{name}.mp4"
    work = WorkDir(tmp / f"{name}.work", {"bench": name}, resume=False, overwrite=True)
    source = open_source(path, max_frames=frames)
    processor = _processor(stylizer, flow, long_term)
    processor.prepare(source.info.width, source.info.height)  # compiled code built outside the timing
    start_cpu = time.process_time()
    result = render(source, processor, output, work)
    cpu = time.process_time() - start_cpu
    decoded = [f.image for f in open_source(output).frames()]
    output.unlink()
    return {"frames": decoded, "fps": result.fps, "cpu_ms": 1000.0 * cpu / max(result.frames, 1)}


def gt_rows(stylizer) -> list[dict]:
    rows = []
    for scene in GT_SCENES:
        folder = SHARED_DATA / "flow" / f"sintel_{scene}"
        if not folder.is_dir():
            continue
        gt = read_flo(folder / "gt" / "frame_0002.flo")[0].permute(1, 2, 0).numpy()
        for pass_, side in ((p, s) for s in GT_SIDES for p in ("clean", "final")):
            frames = [read_image(folder / pass_ / f"frame_000{i}.png") for i in (1, 2, 3)]
            errors = {}
            for label, flow in (("per_frame", None), ("temporal", "dis")):
                processor = _processor(stylizer, flow, max_side=side)
                errors[label] = gt_pair_error([processor.process(f) for f in frames], gt)
            rows.append({"pair": f"sintel_{scene}_{pass_} 2->3", "processing side": side,
                         "per-frame": errors["per_frame"],
                         "temporal (dis)": errors["temporal"],
                         "ratio": errors["temporal"] / max(errors["per_frame"], 1e-12)})
    return rows


# ---------------------------------------------------------------- pictures
def strip(inputs: list[np.ndarray], per_frame: list[np.ndarray], temporal: list[np.ndarray], path: Path) -> None:
    """Rows: three time points; columns: input | per-frame | temporal, each 320 px wide."""
    rows = []
    for t in np.linspace(len(temporal) // 4, len(temporal) - 1, 3).round().astype(int):
        tiles = [_fit_width(im[t], 320) for im in (inputs, per_frame, temporal)]
        rows.append(np.concatenate(tiles, axis=1))
    image = (np.concatenate(rows, axis=0) * 255).astype(np.uint8)
    for i, label in enumerate(("input", "per-frame", "temporal")):
        cv2.putText(image, label, (8 + 320 * i, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2)
    write_image(path, image)


def flicker_plot(series: dict[str, tuple[list[float], list[float]]], path: Path) -> None:
    """One panel per clip: warping error per frame pair, per-frame (red) and temporal (green)."""
    width, height, margin = 720, 180, 40
    panels = []
    for name, (per_frame, temporal) in series.items():
        panel = np.full((height, width, 3), 255, np.uint8)
        top = max(max(per_frame), max(temporal), 1e-9)
        x = lambda i, n: int(margin + (width - 2 * margin) * i / max(n - 1, 1))  # noqa: E731
        y = lambda v: int(height - margin / 2 - (height - 1.5 * margin) * v / top)  # noqa: E731
        cv2.line(panel, (margin, y(0)), (width - margin, y(0)), (0, 0, 0), 1)
        cv2.line(panel, (margin, y(0)), (margin, y(top)), (0, 0, 0), 1)
        for values, colour in ((per_frame, (0, 0, 220)), (temporal, (0, 160, 0))):
            points = np.array([(x(i, len(values)), y(v)) for i, v in enumerate(values)], np.int32)
            cv2.polylines(panel, [points], False, colour, 2, cv2.LINE_AA)
        cv2.putText(panel, f"{name}: warping error per frame pair (max {top:.2g})", (margin, 16),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(panel, "per-frame", (width - 200, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 220), 1)
        cv2.putText(panel, "temporal", (width - 110, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 160, 0), 1)
        panels.append(panel)
    cv2.imwrite(str(path), np.concatenate(panels, axis=0))


# ---------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=48, help="frames per clip, from its start")
    parser.add_argument("--clips", nargs="*", choices=sorted(CLIPS), default=list(CLIPS),
                        help="clips to render (none: only the Sintel ground-truth table)")
    parser.add_argument("--no-sintel", action="store_true", help="skip the Sintel ground-truth table")
    parser.add_argument("--no-compile", action="store_true", help="run the network eagerly")
    parser.add_argument("--preset", help="paint with this preset's own network (e.g. a learned one) instead of "
                        "Magenta + The Starry Night; results go to temporal_PRESET.*")
    args = parser.parse_args(argv)
    style_path = SHARED_DATA / STYLE
    if not style_path.is_file():
        raise SystemExit(f"style image not found at {style_path} (set VIDSTYLE_SHARED_DATA)")
    painting = read_image(style_path)
    if args.preset:
        stylizer = build_stylizer(StyleRequest(style=args.preset), torch.device("cpu"))
    else:
        stylizer = MagentaStylizer(StyleVectorComputer()(painting))
    painted_by = f"preset {args.preset} ({stylizer.name})" if args.preset else f"Magenta + {Path(STYLE).stem}"
    results = f"temporal_{args.preset}" if args.preset else "temporal"
    stylizer.accelerate(compile=not args.no_compile)  # as `vidstyle run` does by default
    vgg = load_vgg19("cpu")
    style = style_target(painting)
    with torch.inference_mode():
        stylizer.stylize(torch.rand(1, 3, 360, 640))  # warm-up: compiled kernels, thread pool

    rows, series, pictures = [], {}, None
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for name in args.clips:
            path = SHARED_DATA / CLIPS[name]
            if not path.exists():
                print(f"skipping {name}: {path} not found")
                continue
            inputs = [f.image for f in open_source(path, max_frames=args.frames).frames()]
            base = run_clip(path, args.frames, stylizer, tmp, None)
            runs = {"per-frame": base, **{f"temporal ({f})": run_clip(path, args.frames, stylizer, tmp, f)
                                          for f in FLOWS},
                    "temporal (dis, --long-term)": run_clip(path, args.frames, stylizer, tmp, "dis", True)}
            measured = {}
            for label, run in runs.items():
                err_out, err_in = reference_warp_errors(inputs, run["frames"])
                s, c = style_and_content(run["frames"], inputs, style, vgg)
                measured[label] = (err_out, err_in, s, c)
            b_out, _, b_style, b_content = measured["per-frame"]
            for label, (err_out, err_in, s, c) in measured.items():
                rows.append({
                    "clip": name, "frames": len(inputs), "method": label,
                    "warp": float(np.mean(err_out)), "/input": float(np.mean(err_out) / np.mean(err_in)),
                    "/per-frame": float(np.mean(err_out) / np.mean(b_out)),
                    "style": s, "style /per-frame": s / b_style,
                    "content": c, "content /per-frame": c / b_content,
                    "fps": runs[label]["fps"], "CPU ms/frame": runs[label]["cpu_ms"],
                })
            series[name] = (b_out, measured["temporal (dis)"][0])
            if pictures is None:
                pictures = (inputs, base["frames"], runs["temporal (dis)"]["frames"])
    gt = [] if args.no_sintel else gt_rows(stylizer)

    columns = ["clip", "frames", "method", "warp", "/input", "/per-frame", "style /per-frame",
               "content /per-frame", "fps", "CPU ms/frame"]
    gt_columns = ["pair", "processing side", "per-frame", "temporal (dis)", "ratio"]
    header = (f"Device: CPU {cpu_name()}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
              f"OpenCV {cv2.__version__}; load average {os.getloadavg()[0]:.1f}; {args.frames} frames per "
              f"clip, {painted_by} ({stylizer.precision}, "
              f"{'compiled' if stylizer.compiled else 'eager'}), processing long side {MAX_SIDE}, {settings_for(stylizer.name)}.")
    table = markdown_table(rows, columns)
    gt_table = markdown_table(gt, gt_columns) if gt else "(no Sintel ground truth found)"
    text = f"{header}\n\n{table}\n\nSintel, ground-truth flow:\n\n{gt_table}\n"
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{results}.md").write_text(text)
    (RESULTS / f"{results}.json").write_text(json.dumps({
        "benchmark": results, "stylizer": painted_by, "date": time.strftime("%Y-%m-%d"), "device": f"CPU {cpu_name()}",
        "torch": torch.__version__, "torch_threads": torch.get_num_threads(), "opencv": cv2.__version__,
        "load_average_1min": os.getloadavg()[0], "frames": args.frames, "style": STYLE,
        "precision": stylizer.precision, "compiled": stylizer.compiled,
        "settings": repr(settings_for(stylizer.name)), "rows": rows, "sintel_ground_truth": gt,
        "warp_series": {k: {"per_frame": v[0], "temporal_dis": v[1]} for k, v in series.items()},
    }, indent=1))
    if pictures is not None:
        strip(*pictures, RESULTS / f"{results}_strip.png")
        flicker_plot(series, RESULTS / ("flicker.png" if results == "temporal" else f"{results}_flicker.png"))


if __name__ == "__main__":
    main()
