"""How close a stylized frame is to its painting, measured as CONTRACT.md (and vsmeasure) do, in memory.

Style ratio = style distance of the output / style distance of the input frame (lower: more like the
painting; 1: no closer than the photo), frames at width 384 and the painting at long side 384; content
distance = mean ‖relu4_2(output) − relu4_2(input)‖² at that width. Used to choose each preset's network
(``scripts/learn_presets.py``) and by ``benchmarks/styles.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from vidstyle.metrics import STYLE_WIDTH
from vidstyle.stylize.losses import content_distance, style_distance
from vidstyle.stylize.vgg import load_vgg19


def _tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).unsqueeze(0)


def _area(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """uint8 or float (H, W, 3) RGB -> float32 0..1 at (width, height), area-resampled."""
    image = image.astype(np.float32) / 255.0 if image.dtype == np.uint8 else image.astype(np.float32)
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


@dataclass
class StyleMeter:
    """Measures frames against one painting: ``painting`` (H, W, 3) uint8 RGB."""

    painting: np.ndarray

    def __post_init__(self) -> None:
        h, w = self.painting.shape[:2]
        scale = STYLE_WIDTH / max(h, w)
        self.vgg = load_vgg19("cpu")
        self.style = _tensor(_area(self.painting, int(w * scale), int(h * scale)))
        self._input_distance: dict[int, float] = {}

    def _fit(self, frame: np.ndarray) -> torch.Tensor:
        h = int(round(frame.shape[0] * STYLE_WIDTH / frame.shape[1] / 2) * 2)
        return _tensor(_area(frame, STYLE_WIDTH, h))

    def measure(self, output: np.ndarray, content: np.ndarray) -> tuple[float, float]:
        """(style ratio, content distance) of ``output`` painted from ``content``; both (H, W, 3) RGB,
        uint8 or float 0..1 (any size: both are brought to width 384)."""
        out, inp = self._fit(output), self._fit(content)
        key = hash(content.tobytes())
        if key not in self._input_distance:
            self._input_distance[key] = style_distance(inp, self.style, self.vgg)
        return style_distance(out, self.style, self.vgg) / self._input_distance[key], \
            content_distance(out, inp, self.vgg)
