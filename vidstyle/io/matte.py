"""Mattes for ``--matte PATTERN|alpha``: a numbered sequence of matte images, or the input's own alpha."""

from __future__ import annotations

import numpy as np

from vidstyle.errors import UserInputError
from vidstyle.io.images import read_image_float
from vidstyle.io.sequence import find_sequence

ALPHA = "alpha"


def matte_channel(image: np.ndarray) -> np.ndarray:
    """(H, W) float32 0..1 from a matte image (H, W, C): grey as is, RGBA its alpha, RGB its red."""
    channel = image[:, :, 3] if image.shape[2] == 4 else image[:, :, 0]
    return np.clip(channel, 0.0, 1.0).astype(np.float32)


class MatteSource:
    """``spec``: a printf pattern or folder of numbered mattes (render frame i uses the i-th file), or
    ``alpha`` to use the input frame's alpha channel (needs RGBA input such as EXR or 16-bit PNG)."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.sequence = None if spec == ALPHA else find_sequence(spec)

    def fingerprint(self) -> str:
        return self.spec

    def matte(self, index: int, input_image: np.ndarray | None = None) -> np.ndarray:
        """(H, W) float32 0..1 for render frame ``index``; ``input_image``: (H, W, C) float, for ``alpha``."""
        if self.sequence is None:
            if input_image is None or input_image.shape[2] != 4:
                raise UserInputError("--matte alpha needs an input with an alpha channel (RGBA EXR, PNG or TIFF)")
            return matte_channel(input_image)
        if index >= len(self.sequence.paths):
            raise UserInputError(f"matte sequence {self.sequence.pattern} has {len(self.sequence.paths)} images, "
                                 f"the render needs frame {index + 1}")
        return matte_channel(read_image_float(self.sequence.paths[index]))
