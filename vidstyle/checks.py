"""One-line guards for tensor shapes and value ranges (kornia's KORNIA_CHECK_SHAPE, as a function)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from vidstyle.errors import ShapeError, UserInputError


def check_shape(x: torch.Tensor, dims: Sequence[str | int], name: str) -> None:
    """Raise ShapeError unless ``x`` has ``len(dims)`` dims and every int entry matches.

    Letters are free sizes; ints are fixed. ``check_shape(flow, ["B", 2, "H", "W"], "flow")``.
    """
    ok = x.dim() == len(dims) and all(
        not isinstance(d, int) or x.shape[i] == d for i, d in enumerate(dims)
    )
    if not ok:
        want = ", ".join(str(d) for d in dims)
        raise ShapeError(f"{name} must be ({want}), got {tuple(x.shape)}")


def check_same_size(a: torch.Tensor, b: torch.Tensor, names: str) -> None:
    """Raise ShapeError unless ``a`` and ``b`` share batch and spatial size (dims 0, -2, -1)."""
    if a.shape[0] != b.shape[0] or a.shape[-2:] != b.shape[-2:]:
        raise ShapeError(f"{names} must share (B, H, W), got {tuple(a.shape)} and {tuple(b.shape)}")


def check_unit_range(value: float, name: str) -> float:
    """Return ``value`` if it lies in 0..1, else a UserInputError naming the option."""
    if not 0.0 <= value <= 1.0:
        raise UserInputError(f"{name} must be between 0 and 1, got {value}")
    return float(value)
