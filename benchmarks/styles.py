"""Painting presets: the learned CIN-26 style against the Magenta preset and a short Gatys optimisation.

For every painting preset with a learned ``.npz``: style ratio (style distance of the output / that of the
input, as ``vsmeasure.py style``: width 384, painting at long side 384; lower = closer to the painting)
and content distance (relu4_2) on frames of the real clips (Big Buck Bunny's flat sky, Chaplin, the fox),
plus ms per frame. Feed-forward frames are painted at their own size (640 px, ``run``'s CPU default);
Gatys (``--method optimize``, few iterations, 384 px) only on the flat-sky frame, to keep the run short.
Also writes ``docs/styles_learned.jpg``: per preset, the flat-sky frame painted by each (painting | Magenta |
learned | Gatys) and crops of its sky at 1:1 (Magenta | learned), where tiles and crosshatch show; and
``docs/styles_sky.jpg``, those sky crops alone.

Run from the repository root:  python -m benchmarks.styles [--iterations 30] [NAME ...]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from benchmarks.common import SHARED_DATA, device_name, write_results
from vidstyle.cli.styles import write_sheet
from vidstyle.io.reader import open_source, read_image
from vidstyle.learn.measure import StyleMeter
from vidstyle.stylize.feedforward import Cin26Stylizer, MagentaStylizer
from vidstyle.stylize.optimize import OptimizeSettings, OptimizeStylizer
from vidstyle.stylize.styles import all_presets, preset_params

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from make_presets import PAINTINGS  # noqa: E402 (the scripts folder is not a package)

# (clip, frame index): the first has a large flat sky.
FRAMES = (("cutBunny.mp4", 60), ("chaplin.mp4", 30), ("fox.mp4", 30))
TILE = (160, 90)  # sheet tiles (w, h); the sky crops are that many pixels of the 640 px frame, unscaled
SKY = (slice(0, 90), slice(40, 200))  # Big Buck Bunny frame 60: flat sky above the hills
SHEET = Path(__file__).resolve().parents[1] / "docs" / "styles_learned.jpg"
SKIES = SHEET.with_name("styles_sky.jpg")  # the 1:1 sky crops alone, for the README
COLUMNS = ("preset", "method", "frames", "style_ratio", "content_distance", "ms_per_frame")


def _tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(image).permute(2, 0, 1).unsqueeze(0).float() / 255.0


def _image(x: torch.Tensor) -> np.ndarray:
    return (x[0].permute(1, 2, 0).clamp(0, 1).numpy() * 255).round().astype(np.uint8)


def read_frames() -> list[np.ndarray]:
    frames = []
    for clip, index in FRAMES:
        source = open_source(SHARED_DATA / "videos" / clip, max_frames=index + 1)
        frames += [f.image for f in source.frames() if f.index == index]
    return frames


def _run(stylizer, frames: list[np.ndarray], meter: StyleMeter) -> tuple[dict, list[np.ndarray]]:
    outs, ms = [], []
    with torch.no_grad() if not isinstance(stylizer, OptimizeStylizer) else torch.enable_grad():
        for frame in frames:
            began = time.perf_counter()
            outs.append(_image(stylizer.stylize(_tensor(frame))))
            ms.append(1000 * (time.perf_counter() - began))
    measured = [meter.measure(o, f) for o, f in zip(outs, frames)]
    return {"frames": len(frames), "style_ratio": float(np.mean([m[0] for m in measured])),
            "content_distance": float(np.mean([m[1] for m in measured])), "ms_per_frame": float(np.median(ms))}, outs


def _fit(image: np.ndarray) -> np.ndarray:
    """A whole frame as a sheet tile (TILE)."""
    return cv2.resize(image, TILE, interpolation=cv2.INTER_AREA)


def _painting_tile(painting: np.ndarray, like: np.ndarray) -> np.ndarray:
    h, w = like.shape[:2]
    scale = max(h / painting.shape[0], w / painting.shape[1])
    big = cv2.resize(painting, (round(painting.shape[1] * scale) + 1, round(painting.shape[0] * scale) + 1),
                     interpolation=cv2.INTER_AREA)
    return big[:h, :w]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=30, help="Gatys L-BFGS iterations per scale.")
    parser.add_argument("--gatys-side", type=int, default=384)
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    frames = read_frames()
    gatys_frame = cv2.resize(frames[0], (args.gatys_side, round(frames[0].shape[0] * args.gatys_side
                                                                   / frames[0].shape[1])), interpolation=cv2.INTER_AREA)
    rows, tiles, skies = [], [], []
    for name, (file, *_rest) in PAINTINGS.items():
        preset = all_presets().get(name)  # read each time: a preset may be re-learned meanwhile
        if preset is None or preset.params is None or args.names and name not in args.names:
            continue
        painting = read_image(SHARED_DATA / "styles" / file)
        meter = StyleMeter(painting)
        methods = {"magenta": (MagentaStylizer(torch.tensor(preset.vector)), frames),
                   "learned cin26": (Cin26Stylizer(preset_params(preset)), frames),
                   f"gatys {args.iterations} it": (OptimizeStylizer(_tensor(painting), OptimizeSettings(
                       iterations=args.iterations)), [gatys_frame])}
        firsts = []
        for method, (stylizer, inputs) in methods.items():
            row, outs = _run(stylizer, inputs, meter)
            rows.append({"preset": name, "method": method + (" *" if preset.family in method else ""), **row})
            firsts.append(outs[0])
            print(rows[-1], flush=True)
        tiles += [(f"{name}", _fit(_painting_tile(painting, frames[0]))), ("magenta (old)", _fit(firsts[0])),
                  ("learned cin26", _fit(firsts[1])), (f"gatys {args.iterations} it", _fit(firsts[2])),
                  ("magenta: sky 1:1", firsts[0][SKY]), ("learned: sky 1:1", firsts[1][SKY])]
        skies += [(f"{name}: magenta", firsts[0][SKY]), (f"{name}: learned", firsts[1][SKY])]
    if not rows:
        raise SystemExit("no learned presets found (run scripts/learn_presets.py first)")
    means = {}
    for method in sorted({r["method"].rstrip(" *") for r in rows}):
        picked = [r for r in rows if r["method"].rstrip(" *") == method]
        means[method] = {k: float(np.mean([r[k] for r in picked])) for k in ("style_ratio", "content_distance")}
    sheet = SHEET
    write_sheet(tiles, sheet, columns=6)
    write_sheet(skies, SKIES, columns=4)
    write_results("styles", rows, COLUMNS, device=device_name(torch.device("cpu")), means=means,
                  frames=[f"{c}#{i}" for c, i in FRAMES], gatys=f"{args.iterations} L-BFGS it/scale at "
                  f"{args.gatys_side} px on {FRAMES[0][0]}#{FRAMES[0][1]} only", sheet=str(sheet.relative_to(SHEET.parents[1])),
                  loadavg=os.getloadavg(), note="* = the network the preset names; times are noisy on a "
                  "shared CPU (see loadavg)")
    print(means)


if __name__ == "__main__":
    main()
