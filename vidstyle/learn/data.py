"""Content for learning a style: frames sampled from videos or image folders, cut into random crops.

Convention: frames are kept as (H, W, 3) uint8 RGB at ``width`` pixels wide; crops come out as
(B, 3, S, S) float RGB 0..1. Pairs of consecutive frames are kept too, for the temporal loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch

from vidstyle.errors import UserInputError
from vidstyle.io.reader import open_source

DEFAULT_CONTENT = Path(__file__).resolve().parents[2] / "samples" / "sample.mp4"


def _resized(image: np.ndarray, width: int) -> np.ndarray:
    h = max(2, round(image.shape[0] * width / image.shape[1]))
    return cv2.resize(image, (width, h), interpolation=cv2.INTER_AREA)


def read_content(paths: Sequence[Path], *, per_source: int = 24, width: int = 640) -> list[np.ndarray]:
    """Sample ``per_source`` evenly spaced frames of each video or image folder, each followed by its
    next frame: returns 2·N frames ``[a0, b0, a1, b1, ...]`` with ``b_i`` the frame after ``a_i``."""
    frames: list[np.ndarray] = []
    for path in paths:
        if not path.exists():
            raise UserInputError(f"content not found: {path}")
        source = open_source(path)
        all_frames = [f.image for f in source.frames()]
        if len(all_frames) < 2:
            raise UserInputError(f"{path}: need at least 2 frames of content, got {len(all_frames)}")
        picks = np.linspace(0, len(all_frames) - 2, min(per_source, len(all_frames) - 1)).round().astype(int)
        for i in picks:
            frames += [_resized(all_frames[i], width), _resized(all_frames[i + 1], width)]
    return frames


class CropSampler:
    """Random square crops of consecutive-frame pairs, reproducible from a seeded generator.

    ``frames``: as :func:`read_content` returns them; frames smaller than ``size`` are scaled up first.
    """

    def __init__(self, frames: Sequence[np.ndarray], size: int, seed: int = 0) -> None:
        if size < 16 or size % 4:
            raise UserInputError(f"--size must be a multiple of 4 and at least 16, got {size}")
        self.size = size
        self.pairs = []
        for a, b in zip(frames[::2], frames[1::2], strict=True):
            scale = max(1.0, size / min(a.shape[:2]))
            if scale > 1.0:
                a, b = (cv2.resize(x, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC) for x in (a, b))
            self.pairs.append((torch.from_numpy(a).permute(2, 0, 1), torch.from_numpy(b).permute(2, 0, 1)))
        self.generator = torch.Generator().manual_seed(seed)

    def sample(self, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Two (batch, 3, S, S) float 0..1 tensors: crops of frames t and, at the same place, t+1."""
        firsts, seconds = [], []
        for _ in range(batch):
            k = int(torch.randint(len(self.pairs), (1,), generator=self.generator))
            a, b = self.pairs[k]
            top = int(torch.randint(a.shape[1] - self.size + 1, (1,), generator=self.generator))
            left = int(torch.randint(a.shape[2] - self.size + 1, (1,), generator=self.generator))
            window = (slice(None), slice(top, top + self.size), slice(left, left + self.size))
            firsts.append(a[window])
            seconds.append(b[window])
        return torch.stack(firsts).float() / 255.0, torch.stack(seconds).float() / 255.0
