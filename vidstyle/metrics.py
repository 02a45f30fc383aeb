"""Temporal consistency and style measurements, exactly as CONTRACT.md defines them.

Warping error E = mean over t >= 1 of Σ M·‖O_t − warp(O_{t−1}, F_{t→t−1})‖² / (3 Σ M): frames at width
480, RGB 0..1, F by OpenCV Farneback (pyr 0.5, 5 levels, window 21, 5 iterations, poly_n 7, sigma 1.5,
Gaussian) on the *input* frames, M from Ruder's forward-backward test. The same figure for the input
video is the floor. Style distance: VGG19 Gram distance at width 384 (style image at long side 384);
content distance: mean ‖relu4_2(O) − relu4_2(I)‖².
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from vidstyle.errors import UserInputError
from vidstyle.flow.opencv import FarnebackFlow
from vidstyle.flow.occlusion import consistency_mask
from vidstyle.flow.warp import backward_warp
from vidstyle.io.reader import open_source, read_image

MEASURE_WIDTH = 480
STYLE_WIDTH = 384
FLOW_NAME = "farneback(0.5,5,21,5,7,1.5,gaussian)"
MASK_NAME = "ruder forward-backward |w+ŵ|²<=0.01(|w|²+|ŵ|²)+0.5, in frame"


def _fit_width(image: np.ndarray, width: int) -> np.ndarray:
    """uint8 (H, W, 3) -> float32 0..1 at ``width`` (height rounded to even, as the reference does)."""
    if image.shape[1] != width:
        h = int(round(image.shape[0] * width / image.shape[1] / 2) * 2)
        image = cv2.resize(image, (width, h), interpolation=cv2.INTER_AREA)
    return image.astype(np.float32) / 255.0


def read_frames(path: str | Path, max_frames: int | None, width: int) -> list[np.ndarray]:
    """Decoded frames (H, W, 3) float32 RGB 0..1 at ``width``: a video, pattern or folder."""
    source = open_source(path, max_frames=max_frames)
    return [_fit_width(f.image, width) for f in source.frames()]


def _tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(image).permute(2, 0, 1).unsqueeze(0)


@dataclass
class WarpErrors:
    """Per-frame warping errors (t = 1..n-1) of the output and of the input."""

    output: list[float]
    input: list[float]

    @property
    def mean_output(self) -> float:
        return float(np.mean(self.output))

    @property
    def mean_input(self) -> float:
        return float(np.mean(self.input))


def warp_errors(inputs: list[np.ndarray], outputs: list[np.ndarray]) -> WarpErrors:
    """Masked warping error of ``outputs`` with flow and mask from ``inputs`` (both float 0..1 lists)."""
    n = min(len(inputs), len(outputs))
    if n < 2:
        raise UserInputError("need at least 2 frames to measure temporal consistency")
    flow = FarnebackFlow()
    errors = WarpErrors([], [])
    for t in range(1, n):
        a, b = _tensor(inputs[t - 1]), _tensor(inputs[t])
        h, w = inputs[t].shape[:2]
        bwd = flow(b, a)  # per pixel of t: where it was in t-1
        fwd = flow(a, b)
        mask = consistency_mask(fwd, bwd)
        denom = max(float(mask.sum()) * 3, 1.0)
        oa = _tensor(cv2.resize(outputs[t - 1], (w, h), interpolation=cv2.INTER_AREA))
        ob = _tensor(cv2.resize(outputs[t], (w, h), interpolation=cv2.INTER_AREA))
        errors.output.append(float((mask * (ob - backward_warp(oa, bwd)).square()).sum()) / denom)
        errors.input.append(float((mask * (b - backward_warp(a, bwd)).square()).sum()) / denom)
    return errors


def style_and_content(output: str | Path, input: str | Path, style: str | Path,
                      max_frames: int) -> tuple[float, float]:
    """(style distance of the output to ``style``, content distance output vs input), means over frames."""
    from vidstyle.stylize.losses import content_distance, style_distance
    from vidstyle.stylize.vgg import load_vgg19

    vgg = load_vgg19("cpu")
    outs = read_frames(output, max_frames, STYLE_WIDTH)
    ins = read_frames(input, max_frames, STYLE_WIDTH)
    st = read_image(style)
    scale = STYLE_WIDTH / max(st.shape[:2])
    st = cv2.resize(st, (int(st.shape[1] * scale), int(st.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    style_t = _tensor(st.astype(np.float32) / 255.0)
    with torch.no_grad():
        sd = [style_distance(_tensor(o), style_t, vgg) for o in outs]
        cd = [content_distance(_tensor(o), _tensor(i), vgg) for o, i in zip(outs, ins)]
    return float(np.mean(sd)), float(np.mean(cd))


def measure(input: str | Path, output: str | Path, *, style: str | Path | None = None,
            max_frames: int | None = 60, style_frames: int = 8) -> dict:
    """The ``vidstyle metrics`` JSON object."""
    errors = warp_errors(read_frames(input, max_frames, MEASURE_WIDTH), read_frames(output, max_frames, MEASURE_WIDTH))
    result = {
        "frames": len(errors.output) + 1,
        "warp_error": errors.mean_output,
        "warp_error_input": errors.mean_input,
        "ratio_to_input": errors.mean_output / max(errors.mean_input, 1e-12),
        "flow": FLOW_NAME,
        "mask": MASK_NAME,
    }
    if style is not None:
        result["style_distance"], result["content_distance"] = style_and_content(output, input, style, style_frames)
    return result
