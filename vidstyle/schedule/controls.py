"""A render's per-frame plan: each frame's :class:`FrameControls` (from the :class:`ControlTrack`, exactly
the values ``vidstyle curves`` reports) and what becomes of the painted frame (matte, float output).

:func:`vidstyle.render_plan.render_plan` builds one from the render's settings, so a local render and a Ray
chunk worker paint every frame with the same values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vidstyle.compositing import MatteCompositor
from vidstyle.errors import UserInputError
from vidstyle.pipeline.stages import FrameMessage
from vidstyle.processor import FrameControls
from vidstyle.schedule.styles import StyleBank, preset_tensor_at
from vidstyle.schedule.track import ControlTrack
from vidstyle.stylize.styles import parse_blend

# A Magenta style vector of an image at a style scale: (H, W, 3) uint8 RGB, scale -> (1, 100).
VectorOfScale = Callable[[np.ndarray, float], torch.Tensor]


class TrackControls:
    """Frame index -> :class:`FrameControls`: the track's strength, temporal weight and, when the style
    moves (crossfade, shots, blend reaction or a style-scale curve), the mixed style input of ``bank``.

    ``base_weights``: the static ``--style``'s presets (name -> weight, summing to 1) for frames whose
    track has no style weights of its own (only the style scale moves).
    """

    def __init__(self, track: ControlTrack, bank: StyleBank | None = None,
                 base_weights: dict[str, float] | None = None) -> None:
        self.track, self.bank, self.base_weights = track, bank, base_weights or {}

    def at(self, index: int) -> FrameControls:
        v = self.track.values_at(index)
        style = None
        if self.bank is not None:
            style = self.bank.mix(v.style_weights or self.base_weights, v.style_scale)
        return FrameControls(time=float(self.track.timeline.times[index]), style=style, strength=v.strength,
                             temporal_weight=v.temporal_weight)


def track_controls(track: ControlTrack, style: str | None, vector_of_scale: VectorOfScale) -> TrackControls:
    """The controls of ``track`` for a network built with ``--style style`` (a preset, blend or image file).

    The style bank is computed only when the style moves; its tensors come from the presets (CIN-26
    one-hot weights, Magenta vectors at each scale of :meth:`ControlTrack.style_scale_grid`) or, for
    an image file, from ``vector_of_scale`` on that image.
    """
    if not track.spec.style_moves():
        return TrackControls(track)
    grid = track.style_scale_grid()
    if track.styles is not None:
        return TrackControls(track, StyleBank(track.styles.names, preset_tensor_at(vector_of_scale), grid))
    if style is None:
        raise UserInputError("a --style-scale schedule or reaction needs --style (a preset or an image)")
    path = Path(style).expanduser()
    if path.is_file():
        from vidstyle.io.reader import read_image

        image = read_image(path)
        bank = StyleBank((style,), lambda _, scale: vector_of_scale(image, scale), grid)
        return TrackControls(track, bank, {style: 1.0})
    parts = parse_blend(style)
    total = sum(w for _, w in parts)
    weights: dict[str, float] = {}
    for name, w in parts:
        weights[name] = weights.get(name, 0.0) + w / total
    return TrackControls(track, StyleBank(tuple(weights), preset_tensor_at(vector_of_scale), grid), weights)


def to_uint8_rgb(image: np.ndarray) -> np.ndarray:
    """(H, W, 3|4) float 0..1 -> (H, W, 3) uint8 RGB (alpha dropped: for formats without it)."""
    return np.round(np.clip(image[:, :, :3], 0.0, 1.0) * 255.0).astype(np.uint8)


@dataclass(frozen=True)
class RenderPlan:
    """What a render does per frame besides painting (the ``plan`` of :func:`render_segment`).

    ``controls``: the frame's values (None: the processor's static settings); ``matte``: composites the
    painting into the input; ``float_output``: the writer gets (H, W, 3|4) float32 0..1 frames (EXR,
    16-bit or composited image sequences), else (H, W, 3) uint8; ``confidence(index)``: writes the temporal
    filter's mask of the frame just painted (``--write-confidence``).
    """

    controls: TrackControls | None = None
    matte: MatteCompositor | None = None
    float_output: bool = False
    confidence: Callable[[int], None] | None = None

    @property
    def as_float(self) -> bool:
        """Whether the processor should return float frames (no rounding to 8 bits before the writer)."""
        return self.float_output or self.matte is not None

    def frame_controls(self, message: FrameMessage) -> FrameControls | None:
        return None if self.controls is None else self.controls.at(message.index)

    def finish(self, message: FrameMessage, painted: np.ndarray) -> np.ndarray:
        """The frame to write from the painted one; ``message.image`` is the decoded input."""
        if self.confidence is not None:
            self.confidence(message.index)
        if not self.as_float:
            return painted
        out = painted if self.matte is None else self.matte(message.index, message.image, painted)
        return out if self.float_output else to_uint8_rgb(out)
