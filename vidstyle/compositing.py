"""Compositing the painting into the input through a matte (``--matte``): a pure function.

Where the matte is 0 the input's pixel is returned bit for bit; where it is 1 the painting; soft edges
blend. RGBA inputs are premultiplied (the EXR convention): they are unpremultiplied to blend and the
result is premultiplied by the input's alpha again, so the output keeps the input's alpha.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vidstyle.errors import UserInputError


def apply_matte(input: np.ndarray, styled: np.ndarray, matte: np.ndarray) -> np.ndarray:
    """Composite ``styled`` over ``input`` through ``matte``.

    input: (H, W, 3) straight RGB or (H, W, 4) premultiplied RGBA, float; styled: (H, W, 3) straight RGB,
    float; matte: (H, W) or (H, W, 1) in 0..1. Returns an array shaped and typed like ``input``.
    """
    m = np.asarray(matte, dtype=np.float32)
    m = m[:, :, 0] if m.ndim == 3 else m
    if input.ndim != 3 or input.shape[2] not in (3, 4) or styled.shape[:2] != input.shape[:2] \
            or styled.shape[2] != 3 or m.shape != input.shape[:2]:
        raise UserInputError(f"matte compositing needs input (H, W, 3|4), styled (H, W, 3) and matte (H, W) of "
                             f"one size; got {input.shape}, {styled.shape}, {m.shape}")
    m = np.clip(m, 0.0, 1.0)[:, :, None]
    rgb = input[:, :, :3].astype(np.float32)
    alpha = input[:, :, 3:].astype(np.float32) if input.shape[2] == 4 else None
    if alpha is not None:
        rgb = np.where(alpha > 0, rgb / np.maximum(alpha, 1e-12), 0.0)
    blended = rgb + m * (styled.astype(np.float32) - rgb)
    if alpha is not None:
        blended = np.concatenate([blended * alpha, alpha], axis=2)
    return np.where(m > 0, blended.astype(input.dtype), input)


class MatteCompositor:
    """``--matte`` in a render: frame ``index``'s painting composited into its input.

    ``input_float(index, decoded)``: the input frame as (H, W, 3|4) float, read at full precision (an
    EXR or 16-bit file, with its alpha) or from the decoded (H, W, 3) uint8 frame; ``matte(index,
    input_float)``: (H, W) 0..1 (:class:`vidstyle.io.matte.MatteSource`).
    """

    def __init__(self, matte: Callable[[int, np.ndarray], np.ndarray],
                 input_float: Callable[[int, np.ndarray], np.ndarray]) -> None:
        self.matte, self.input_float = matte, input_float

    def __call__(self, index: int, decoded: np.ndarray, painted: np.ndarray) -> np.ndarray:
        """(H, W, 3|4) float, like the input: ``painted`` (H, W, 3) float 0..1 where the matte is 1."""
        source = self.input_float(index, decoded)
        if painted.shape[:2] != source.shape[:2]:
            raise UserInputError("--matte needs the output at the input's size (drop --keep-processing-size)")
        return apply_matte(source, painted, self.matte(index, source))
