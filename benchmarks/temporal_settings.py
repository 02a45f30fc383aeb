"""Temporal settings sweep: the same frames through the temporal filter under several ``TemporalSettings``.

Run from the repository root:
    python -m benchmarks.temporal_settings [--frames 48] [--clips cutBunny chaplin fox] [--preset starry_night]
        [--set LABEL:FIELD=VALUE[,FIELD=VALUE...] ...]

Choosing a setting of the filter takes many runs on the same frames; painting them anew each time would
cost most of the run and add the network's noise. Here each clip's first ``--frames`` frames are painted
once per frame by the preset (compiled, at processing long side 640) and their DIS flows estimated once;
every variant replays those through ``FlowTemporalFilter``. The output (the filter's frames, unencoded, at
the clip's size) is measured with ``benchmarks.temporal``'s reference measures: warping error, style and
content distance, each as a ratio to the per-frame output's. Encoding lowers the per-frame output's fine
texture, so these ratios differ from ``benchmarks.temporal``'s (style ratios run higher here): compare
variants with each other, not with that table. Variants: the defaults ``run`` uses for the preset's network
(``settings_for``: "default") and each ``--set`` on top of them, e.g.
``--set "no contrast:detail_contrast=0" --set "lambda 30:weight=30"``.

Writes ``benchmarks/results/temporal_settings.{json,md}``.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import SHARED_DATA, cpu_name, write_results
from benchmarks.temporal import CLIPS, MAX_SIDE, STYLE, reference_warp_errors, style_and_content, style_target
from vidstyle.flow.factory import build_flow
from vidstyle.io.convert import processing_size, resize, to_tensor, to_uint8
from vidstyle.io.reader import open_source, read_image
from vidstyle.stylize.registry import StyleRequest, build_stylizer
from vidstyle.stylize.vgg import load_vgg19
from vidstyle.temporal.consistency import FlowTemporalFilter, TemporalSettings, settings_for


@dataclasses.dataclass
class Painted:
    """One clip painted once: input frames (uint8, their size), processing-size inputs, the network's
    frames and the DIS flows t -> t-1 (all (1, C, H, W) float)."""

    inputs: list[np.ndarray]
    contents: list[torch.Tensor]
    fresh: list[torch.Tensor]
    flows: list[torch.Tensor]


def paint_clip(path: Path, frames: int, stylizer) -> Painted:
    inputs = [f.image for f in open_source(path, max_frames=frames).frames()]
    h, w = inputs[0].shape[:2]
    contents = [resize(to_tensor(i), processing_size(w, h, MAX_SIDE)) for i in inputs]
    flow = build_flow("dis")
    with torch.no_grad():
        fresh = [stylizer.stylize(c) for c in contents]
        flows = [flow(contents[t], contents[t - 1]) for t in range(1, len(contents))]
    return Painted(inputs, contents, fresh, flows)


class _Replayed:
    """A flow estimator that returns the recorded flows in order."""

    name = "replayed"

    def __init__(self, flows: list[torch.Tensor]) -> None:
        self._flows: Iterator[torch.Tensor] = iter(flows)

    def __call__(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return next(self._flows)


def replay(painted: Painted, settings: TemporalSettings | None) -> tuple[list[np.ndarray], float]:
    """The filter's frames at the input's size (None: the per-frame output) and ms of filter a frame."""
    h, w = painted.inputs[0].shape[:2]
    if settings is None:
        return [to_uint8(resize(f, (w, h))) for f in painted.fresh], 0.0
    filt = FlowTemporalFilter(_Replayed(painted.flows), settings, overlap_flow=False)
    outs, spent = [], 0.0
    with torch.no_grad():
        for content, fresh in zip(painted.contents, painted.fresh, strict=True):
            start = time.perf_counter()
            out = filt.step(content, lambda _: fresh)
            spent += time.perf_counter() - start
            outs.append(to_uint8(resize(out, (w, h))))
    return outs, 1000.0 * spent / len(outs)


def parse_variant(text: str, base: TemporalSettings) -> tuple[str, TemporalSettings]:
    """"LABEL:FIELD=VALUE,..." -> (label, ``base`` with those fields); each value a Python literal (0.5,
    None, True)."""
    label, _, assignments = text.partition(":")
    fields = [f.name for f in dataclasses.fields(TemporalSettings)]
    changes = {}
    for item in filter(None, assignments.split(",")):
        name, _, value = (part.strip() for part in item.partition("="))
        if name not in fields:
            raise SystemExit(f"--set: no TemporalSettings field {name!r}; fields: {', '.join(fields)}")
        try:
            changes[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            raise SystemExit(f"--set: {name}={value!r} is not a Python literal (e.g. 0.5, None, True)") from None
    return label.strip(), dataclasses.replace(base, **changes)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--clips", nargs="+", choices=sorted(CLIPS), default=["cutBunny", "chaplin", "fox"])
    parser.add_argument("--preset", default="starry_night", help="the preset that paints the frames")
    parser.add_argument("--set", dest="variants", action="append", default=[], metavar="LABEL:FIELD=VALUE,...",
                        help="a variant of TemporalSettings (repeatable)")
    args = parser.parse_args(argv)
    if not (SHARED_DATA / STYLE).is_file():
        raise SystemExit(f"style image not found at {SHARED_DATA / STYLE} (set VIDSTYLE_SHARED_DATA)")
    stylizer = build_stylizer(StyleRequest(style=args.preset), torch.device("cpu"))
    stylizer.accelerate(compile=True)
    default = settings_for(stylizer.name)  # as ``run`` sets it for this network
    variants = [("default", default), *(parse_variant(v, default) for v in args.variants)]
    vgg = load_vgg19("cpu")
    style = style_target(read_image(SHARED_DATA / STYLE))
    rows = []
    for name in args.clips:
        path = SHARED_DATA / CLIPS[name]
        if not path.exists():
            print(f"skipping {name}: {path} not found")
            continue
        painted = paint_clip(path, args.frames, stylizer)
        measured = {}
        for label, settings in [("per-frame", None), *variants]:
            outs, ms = replay(painted, settings)
            warp = float(np.mean(reference_warp_errors(painted.inputs, outs)[0]))
            measured[label] = (warp, *style_and_content(outs, painted.inputs, style, vgg), ms)
        base = measured["per-frame"]
        for label, (warp, s, c, ms) in measured.items():
            rows.append({"clip": name, "variant": label, "warp /per-frame": warp / base[0],
                         "style /per-frame": s / base[1], "content /per-frame": c / base[2],
                         "filter ms/frame": round(ms, 1)})
    settings_text = {label: repr(s) for label, s in variants}
    write_results("temporal_settings", rows, ["clip", "variant", "warp /per-frame", "style /per-frame",
                                              "content /per-frame", "filter ms/frame"],
                  device=f"CPU {cpu_name()}", preset=args.preset, frames=args.frames, settings=settings_text)


if __name__ == "__main__":
    main()
