"""One frame in, one stylized frame out: resizing, stylizer, temporal filter and strength.

Shared by ``vidstyle run`` (through :mod:`vidstyle.pipeline`) and ``vidstyle webcam``, so both paint
the same way.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

from vidstyle.checks import check_unit_range
from vidstyle.io.convert import processing_size, resize, to_tensor, to_uint8
from vidstyle.stylize.base import Stylizer


class TemporalFilter(Protocol):
    """Makes successive stylized frames agree where the scene is visible in both (vidstyle.temporal)."""

    def step(self, content: torch.Tensor, stylizer: Stylizer) -> torch.Tensor: ...

    def reset(self) -> None: ...

    def state_dict(self) -> dict[str, torch.Tensor]: ...

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None: ...


class FrameProcessor:
    """Stylize uint8 (H, W, 3) RGB frames in order; the output has the input's size.

    ``max_side`` caps the processing size (long side); ``strength`` blends the stylization with the
    input at full resolution, so 0 returns the input unchanged.
    """

    def __init__(self, stylizer: Stylizer, temporal: TemporalFilter | None, *, max_side: int | None,
                 strength: float = 1.0, keep_processing_size: bool = False) -> None:
        self.stylizer = stylizer
        self.temporal = temporal
        self.temporal_enabled = temporal is not None
        self.max_side = max_side
        self.strength = check_unit_range(strength, "--strength")
        self.keep_processing_size = keep_processing_size

    @property
    def device(self) -> torch.device:
        return self.stylizer.device

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) of what :meth:`process` returns for an input of this size."""
        if self.keep_processing_size:
            return self.processing_size(width, height)
        return width, height

    def processing_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) the stylizer paints at for an input of this size."""
        return processing_size(width, height, self.max_side)

    def prepare(self, width: int, height: int) -> None:
        """Stylize one grey frame at the processing size of a ``width`` x ``height`` input.

        A compiled network builds its kernels on its first frame of a size (tens of seconds on a CPU);
        this puts that in model loading rather than in the render. Temporal state is untouched.
        """
        w, h = self.processing_size(width, height)
        with torch.no_grad():
            self.stylizer.stylize(torch.full((1, 3, h, w), 0.5, device=self.device))

    def process(self, image: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 RGB -> stylized (H', W', 3) uint8 RGB (H', W' from :meth:`output_size`)."""
        h, w = image.shape[:2]
        out_w, out_h = self.output_size(w, h)
        full = to_tensor(image, self.device)
        if self.strength == 0.0:
            return image if (out_w, out_h) == (w, h) else to_uint8(resize(full, (out_w, out_h)))
        with torch.no_grad():
            small = resize(full, self.processing_size(w, h))
            if self.temporal is not None and self.temporal_enabled:
                styled = self.temporal.step(small, self.stylizer)
            else:
                styled = self.stylizer.stylize(small)
            out = resize(styled, (out_w, out_h))
            if self.strength < 1.0:
                out = torch.lerp(resize(full, (out_w, out_h)), out, self.strength)
        return to_uint8(out)

    def reset(self) -> None:
        """Forget the previous frames (a scene cut the caller knows of, or a new source)."""
        if self.temporal is not None:
            self.temporal.reset()

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.temporal.state_dict() if self.temporal is not None else {}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        if self.temporal is not None:
            self.temporal.load_state_dict(state)
