"""Mattes for ``--matte PATTERN|alpha`` (a numbered sequence of matte images, or the input's own alpha), and
the matte sequence ``--write-confidence`` writes."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from vidstyle.errors import UserInputError
from vidstyle.io.images import read_image_float, write_image_float
from vidstyle.io.sequence import find_sequence, is_pattern

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


def confidence_pattern(output: Path) -> Path:
    """Where ``--write-confidence`` writes: ``out/s.%04d.exr`` -> ``out/confidence/s.%04d.png``,
    ``clip.mp4`` -> ``clip_confidence/%05d.png``."""
    if is_pattern(output):
        return output.parent / "confidence" / output.with_suffix(".png").name
    return output.parent / f"{output.stem}_confidence" / "%05d.png"


class ConfidenceWriter:
    """Writes the temporal filter's mask of each frame as a 16-bit grey matte sequence: 1 where the frame
    was held to the previous one, 0 where it was painted afresh (first frame, disocclusions, cuts)."""

    def __init__(self, pattern: Path, first_number: int, size: tuple[int, int]) -> None:
        self.pattern, self.first_number, self.size = pattern, first_number, size

    def write(self, index: int, mask: np.ndarray | None) -> None:
        """``mask``: (h, w) float 0..1 at any size (resized to the output's), None for a fresh frame."""
        w, h = self.size
        matte = np.zeros((h, w), np.float32) if mask is None else \
            cv2.resize(mask.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
        write_image_float(str(self.pattern) % (self.first_number + index), np.clip(matte, 0.0, 1.0))
