"""Middlebury ``.flo`` files: float32 magic 202021.25, int32 width, int32 height, then (u, v) float32
interleaved, row-major, little-endian (http://vision.middlebury.edu/flow/code/flow-code/README.txt).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from vidstyle.errors import UserInputError

FLO_MAGIC = 202021.25
_HEADER_BYTES = 12
# Middlebury's own sanity limit on width and height.
_MAX_SIDE = 100_000


def read_flo(path: str | Path) -> torch.Tensor:
    """Read a ``.flo`` file as flow (1, 2, H, W) float32 pixels, (x, y), on the CPU.

    Values are returned as stored; Sintel and Middlebury mark unknown flow with magnitudes ≥ 1e9.
    Raises UserInputError for a missing file, a wrong magic number, a bad size or a truncated body.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UserInputError(f"cannot read flow file {path}: {e.strerror or e}") from e
    if len(data) < _HEADER_BYTES:
        raise UserInputError(f"{path} is not a .flo file: {len(data)} bytes, shorter than the header")
    magic = np.frombuffer(data, dtype="<f4", count=1)[0]
    if magic != np.float32(FLO_MAGIC):
        raise UserInputError(f"{path} is not a .flo file: magic number {magic!r}, expected {FLO_MAGIC}")
    width, height = (int(v) for v in np.frombuffer(data, dtype="<i4", count=2, offset=4))
    if not (0 < width <= _MAX_SIDE and 0 < height <= _MAX_SIDE):
        raise UserInputError(f"{path}: bad .flo size {width}x{height}")
    expected = _HEADER_BYTES + 8 * width * height
    if len(data) != expected:
        raise UserInputError(
            f"{path}: a {width}x{height} .flo file has {expected} bytes, got {len(data)}"
        )
    uv = np.frombuffer(data, dtype="<f4", offset=_HEADER_BYTES).reshape(height, width, 2)
    return torch.from_numpy(uv.astype(np.float32)).permute(2, 0, 1).unsqueeze(0).contiguous()

