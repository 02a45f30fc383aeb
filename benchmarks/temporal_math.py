"""The temporal filter's per-frame math: today's chain of full-frame tensors against fused versions.

Run from the repository root:  python -m benchmarks.temporal_math [--clip PATH] [--pairs N] [--no-compile]

Inputs are real: consecutive frames of a clip at 640x360, DIS flow between them (as ``run`` computes it),
and the Magenta network's paintings of both frames (uncompiled, fp32). On the same inputs it times
``vidstyle.temporal.consistency.consistent_frame`` (default settings, no long-term terms) and

- ``opencv``: :func:`consistent_frame_cv` below, one pass in HWC float32 numpy with OpenCV ``remap``,
  ``resize``, ``blur`` and ``sepFilter2D`` for the warps, the Gaussian windows and the local moments,
  in-place arithmetic where it is free; timed with the (1, 3, H, W) <-> (H, W, 3) conversions included;
- ``compiled``: ``torch.compile(consistent_frame)`` (inductor, fixed shapes), the compile time reported.

For each it reports the best of ``--repeats`` wall times per frame pair (ms), and the max and mean
absolute difference of the output from today's path (0..1 RGB). Writes
``benchmarks/results/temporal_math.{json,md}``. Nothing here is used by vidstyle yet: it measures
whether adopting the fused function pays (see the report in the markdown).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from benchmarks.common import RESULTS, SHARED_DATA, cpu_name, markdown_table
from vidstyle.temporal.consistency import (
    BOUNDARY_BAND_SIGMA, COARSE_SIGMA, CONTRAST_RADIUS, DETAIL_SIGMA, DIS_TEAR_ABSOLUTE, DIS_TEAR_RELATIVE,
    FLAT_DETAIL, MAX_CONTRAST_GAIN, STILLNESS_SIGMA, TemporalSettings, consistent_frame,
)

_GRIDS: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel x and y coordinates, (H, W) float32 each, cached per size."""
    if (h, w) not in _GRIDS:
        gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
        _GRIDS[(h, w)] = gx, gy
    return _GRIDS[(h, w)]


def _halved(x: np.ndarray) -> np.ndarray:
    """Means of 2x2 blocks (even sizes; INTER_AREA at exactly half is that mean)."""
    return cv2.resize(x, (x.shape[1] // 2, x.shape[0] // 2), interpolation=cv2.INTER_AREA)


def _expanded(x: np.ndarray, h: int, w: int) -> np.ndarray:
    """Bilinear, half-pixel centres: what ``F.interpolate(align_corners=False)`` computes."""
    return cv2.resize(x, (w, h), interpolation=cv2.INTER_LINEAR)


def _smooth(x: np.ndarray, sigma: float) -> np.ndarray:
    """(H, W) or (H, W, C) float32: the same Gaussian-at-quarter-size blur as ``consistency._smooth``."""
    h, w = x.shape[:2]
    radius = max(1, math.ceil(3.0 * sigma / 4))
    taps = np.arange(-radius, radius + 1, dtype=np.float32)
    kernel = np.exp(-0.5 * np.square(4 * taps / sigma))
    kernel /= kernel.sum()
    small = cv2.sepFilter2D(_halved(_halved(x)), -1, kernel, kernel, borderType=cv2.BORDER_REPLICATE)
    return _expanded(small, h, w)


def _motion_boundaries(fx: np.ndarray, fy: np.ndarray) -> np.ndarray:
    """(H, W) float32, 1 where |∇u|² + |∇v|² > DIS_TEAR_RELATIVE |w|² + DIS_TEAR_ABSOLUTE."""
    grad = np.zeros_like(fx)
    for f in (fx, fy):
        p = cv2.copyMakeBorder(f, 1, 1, 1, 1, cv2.BORDER_REPLICATE)
        dx = (p[1:-1, 2:] - p[1:-1, :-2]) * 0.5
        dy = (p[2:, 1:-1] - p[:-2, 1:-1]) * 0.5
        grad += dx * dx + dy * dy
    limit = DIS_TEAR_RELATIVE * (fx * fx + fy * fy) + DIS_TEAR_ABSOLUTE
    return (grad > limit).astype(np.float32)


def consistent_frame_cv(fresh: np.ndarray, prev_output: np.ndarray, content: np.ndarray, previous: np.ndarray,
                        flow: np.ndarray, s: TemporalSettings) -> np.ndarray:
    """``consistent_frame`` (no long-term terms, default band settings) in one pass of numpy and OpenCV.

    fresh, prev_output, content, previous: (H, W, 3) float32 RGB 0..1; flow: (H, W, 2) float32 pixels
    (x, y), frame t -> t-1; H and W even. Returns the (H, W, 3) float32 output in 0..1.
    """
    h, w = flow.shape[:2]
    gx, gy = _grid(h, w)
    map_x, map_y = gx + flow[..., 0], gy + flow[..., 1]
    warped_prev = cv2.remap(previous, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    moved = np.square(content - warped_prev).sum(-1)
    still = np.square(content - previous).sum(-1)
    moving = _smooth(still - moved, STILLNESS_SIGMA) > s.stillness_margin
    movingf = moving.astype(np.float32)
    kx, ky = flow[..., 0] * movingf, flow[..., 1] * movingf
    mask = np.exp(-s.photometric * np.where(moving, moved, still))
    near = (_smooth(_motion_boundaries(kx, ky), BOUNDARY_BAND_SIGMA) > 0.05).astype(np.float32)
    tx, ty = gx + kx, gy + ky
    inside = (tx >= 0) & (tx <= w - 1) & (ty >= 0) & (ty <= h - 1)
    mask *= (1.0 - (1.0 - s.boundary_weight) * near) * inside
    warped_out = cv2.remap(prev_output, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    anchor = np.where(moving[..., None], warped_out, prev_output)
    contrast = s.still_contrast + (s.contrast - s.still_contrast) * movingf
    out = _blend(fresh, anchor, mask, s.weight, contrast)
    if s.coarse_weight is not None:  # the coarse band from a blend with its own λ
        coarse = anchor - fresh
        coarse *= (1.0 - 1.0 / (1.0 + s.coarse_weight * mask))[..., None]
        coarse += fresh
        coarse -= out
        out += _smooth(coarse, COARSE_SIGMA)
    if s.carry_detail:  # carried_detail(), by linearity: H(fresh - out) + carry H(anchor - fresh), H = 1 - smooth
        carry = (1.0 - (1.0 - mask) / (1.0 + s.weight * mask))[..., None]
        stack = np.concatenate([fresh - out, anchor - fresh, content], axis=-1)
        stack -= _smooth(stack, DETAIL_SIGMA)
        flat = np.exp(-FLAT_DETAIL * _smooth(np.square(stack[..., 6:]).sum(-1), DETAIL_SIGMA))[..., None]
        detail = stack[..., 3:6]
        detail *= carry
        detail += stack[..., :3]
        detail *= flat
        out += detail
    return np.clip(out, 0.0, 1.0, out=out)


def _blend(fresh: np.ndarray, anchor: np.ndarray, mask: np.ndarray, weight: float,
           contrast: np.ndarray) -> np.ndarray:
    """``consistency.blend``: the closed form, then the contrast lost to averaging given back."""
    h, w = mask.shape
    a = 1.0 / (1.0 + weight * mask)
    mixed = anchor - fresh
    mixed *= (1.0 - a)[..., None]
    mixed += fresh
    moments = np.concatenate([fresh, anchor, np.square(fresh).sum(-1, keepdims=True),
                              np.square(anchor).sum(-1, keepdims=True), (fresh * anchor).sum(-1, keepdims=True),
                              a[..., None]], axis=-1)
    size = 2 * CONTRAST_RADIUS + 1
    m = cv2.blur(_halved(moments), (size, size), borderType=cv2.BORDER_REPLICATE)
    mean_c, mean_w, sq_c, sq_w, prod, am = m[..., 0:3], m[..., 3:6], m[..., 6], m[..., 7], m[..., 8], m[..., 9]
    bm = 1.0 - am
    var_c = np.maximum(sq_c - np.square(mean_c).sum(-1), 0.0)
    var_w = np.maximum(sq_w - np.square(mean_w).sum(-1), 0.0)
    cov = prod - (mean_c * mean_w).sum(-1)
    preserved = am * var_c + bm * var_w
    averaged = np.maximum(am * am * var_c + bm * bm * var_w + 2.0 * am * bm * cov, 1e-8)
    lost = np.clip(np.sqrt(preserved / averaged), 1.0, MAX_CONTRAST_GAIN) - 1.0
    local_mean = _expanded(am[..., None] * mean_c + bm[..., None] * mean_w, h, w)
    gain = 1.0 + contrast * _expanded(lost, h, w)
    mixed -= local_mean
    mixed *= gain[..., None]
    mixed += local_mean
    return mixed


def _hwc(x: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(x[0].permute(1, 2, 0).numpy())


def fused_from_tensors(fresh, prev_output, content, previous, flow, settings) -> torch.Tensor:
    """The OpenCV path called as ``consistent_frame`` is: (1, C, H, W) tensors in and out."""
    out = consistent_frame_cv(_hwc(fresh), _hwc(prev_output), _hwc(content), _hwc(previous), _hwc(flow), settings)
    return torch.from_numpy(out).permute(2, 0, 1).unsqueeze(0)


def inputs(clip: Path, pairs: int, max_side: int = 640) -> list[tuple[torch.Tensor, ...]]:
    """(fresh, prev_output, content, previous, flow) per consecutive frame pair of ``clip``."""
    from vidstyle.flow.factory import build_flow
    from vidstyle.io.convert import processing_size, resize, to_tensor
    from vidstyle.io.reader import open_source
    from vidstyle.stylize.registry import StyleRequest, build_stylizer

    stylizer = build_stylizer(StyleRequest(style="starry_night"), torch.device("cpu"))
    flow = build_flow("dis")
    frames = []
    for frame in open_source(clip, max_frames=pairs + 1).frames():
        h, w = frame.image.shape[:2]
        frames.append(resize(to_tensor(frame.image), processing_size(w, h, max_side)))
    with torch.no_grad():
        painted = [stylizer.stylize(f) for f in frames]
        return [(painted[i + 1], painted[i], frames[i + 1], frames[i], flow(frames[i + 1], frames[i]))
                for i in range(pairs)]


def best_ms(fn, cases, repeats: int) -> tuple[float, float]:
    """Fastest of ``repeats`` passes over ``cases``, ms per case: wall time and CPU time (all threads)."""
    times, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        for case in cases:
            fn(*case)
        times.append((time.perf_counter() - start) * 1000 / len(cases))
        cpu.append((time.process_time() - start_cpu) * 1000 / len(cases))
    return min(times), min(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clip", type=Path, default=SHARED_DATA / "videos" / "cutBunny.mp4")
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-compile", action="store_true", help="Skip the torch.compile variant.")
    parser.add_argument("--note", default="", help="what the machine was doing (quiet, shared ...)")
    args = parser.parse_args()
    # the numpy port has no zoom band and no carried-detail contrast: both sides without them
    settings = TemporalSettings(zoom_fresh=None, detail_contrast=0.0)
    cases = inputs(args.clip, args.pairs)
    simple = lambda *c: consistent_frame(*c, settings)[0]  # noqa: E731
    variants = {"today (tensor chain)": simple,
                "opencv fused": lambda *c: fused_from_tensors(*c, settings)}
    build_s = {}
    if not args.no_compile:
        compiled_fn = torch.compile(consistent_frame, dynamic=False)
        start = time.perf_counter()
        with torch.no_grad():
            compiled_fn(*cases[0], settings)
        build_s["torch.compile"] = time.perf_counter() - start
        variants["torch.compile"] = lambda *c: compiled_fn(*c, settings)[0]
    rows = []
    with torch.no_grad():
        reference = [simple(*c) for c in cases]
        base = None
        for name, fn in variants.items():
            outs = [fn(*c) for c in cases]
            diff = torch.stack([(o - r).abs().max() for o, r in zip(outs, reference)]).max().item()
            mean = torch.stack([(o - r).abs().mean() for o, r in zip(outs, reference)]).mean().item()
            ms, cpu_ms = best_ms(fn, cases, args.repeats)
            base = base or ms
            rows.append({"variant": name, "ms per frame": round(ms, 2), "CPU ms per frame": round(cpu_ms, 2),
                         "speed-up": round(base / ms, 2),
                         "max abs diff": diff, "mean abs diff": mean, "build s": round(build_s.get(name, 0.0), 1)})
    h, w = cases[0][0].shape[-2:]
    meta = {"device": cpu_name(), "torch_threads": torch.get_num_threads(), "size": f"{w}x{h}",
            "pairs": args.pairs, "clip": args.clip.name, "load_average": os.getloadavg(),
            "note": f"best of --repeats. {args.note}"}
    table = markdown_table(rows, ["variant", "ms per frame", "CPU ms per frame", "speed-up", "max abs diff",
                                  "mean abs diff", "build s"])
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "temporal_math.json").write_text(json.dumps({"benchmark": "temporal_math",
                                                             "date": time.strftime("%Y-%m-%d"), **meta,
                                                             "rows": rows}, indent=1))
    (RESULTS / "temporal_math.md").write_text(
        f"Device: {meta['device']}, torch threads {meta['torch_threads']}, {meta['size']}, {args.pairs} frame pairs "
        f"of {meta['clip']}, load average {tuple(round(x, 2) for x in meta['load_average'])} when it ended. "
        f"{args.note}\n\n{table}\n")


if __name__ == "__main__":
    main()
