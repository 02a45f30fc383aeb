"""uint8 (H, W, 3) RGB frames <-> float (B, 3, H, W) tensors in 0..1, and resizing for processing.

uint8 lives only in ``vidstyle.io`` and at the OpenCV flow boundary; everything else sees float 0..1.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def to_tensor(frame: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """(H, W, 3) uint8 RGB -> (1, 3, H, W) float32 RGB in 0..1 on ``device``, contiguous.

    Contiguous, not the channels-last strides a plain permute keeps: every later step makes its
    full-size images contiguous, and torch's CPU kernels slow down where the two layouts meet (the
    temporal step took ~10% longer on channels-last frames). The planes are separated while still
    bytes, then converted: a 640x360 frame 0.93 -> 0.29 ms, the same values."""
    t = torch.from_numpy(np.ascontiguousarray(frame)).to(device, non_blocking=True)
    return t.permute(2, 0, 1).contiguous().unsqueeze(0).to(torch.float32).div_(255.0)


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) float RGB (clipped to 0..1) -> (H, W, 3) uint8 RGB on the CPU."""
    x = image[0].clamp(0.0, 1.0).mul_(255.0).round_().permute(1, 2, 0)
    return x.to(torch.uint8, memory_format=torch.contiguous_format).cpu().numpy()


def processing_size(width: int, height: int, max_side: int | None, multiple: int = 4) -> tuple[int, int]:
    """(width, height) scaled so the long side is at most ``max_side``, rounded to ``multiple``.

    Never upscales; the rounding keeps the stylization networks' stride happy.
    """
    scale = 1.0 if not max_side else min(1.0, max_side / max(width, height))
    w = max(multiple, int(round(width * scale / multiple)) * multiple)
    h = max(multiple, int(round(height * scale / multiple)) * multiple)
    return w, h


def resize(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, h, w) with ``size=(w, h)``; area when shrinking, bicubic when growing."""
    w, h = size
    if image.shape[-2:] == (h, w):
        return image
    if h <= image.shape[-2] and w <= image.shape[-1]:
        return F.interpolate(image, size=(h, w), mode="area")
    return F.interpolate(image, size=(h, w), mode="bicubic", align_corners=False).clamp(0.0, 1.0)
