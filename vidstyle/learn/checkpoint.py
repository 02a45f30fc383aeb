"""Files of a learned style: the training checkpoint (resumable) and the learned parameters (shipped).

The checkpoint is a small dict of tensors and numbers written with ``torch.save`` after every step
(atomically: a Ctrl-C leaves the previous one whole) and read back with ``weights_only=True``.
The learned style itself is an ``.npz`` holding ``params``: (CIN_PARAM_DIM,) float32, the norm
parameters :class:`vidstyle.stylize.nets.CinTransformer26` takes as a style.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from vidstyle.errors import UserInputError
from vidstyle.io.atomic import atomic_output
from vidstyle.stylize.nets import CIN_PARAM_DIM


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` (tensors, numbers, strings, lists and dicts of them) atomically."""
    with atomic_output(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`; a broken file is a UserInputError."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError) as exc:
        raise UserInputError(f"cannot read the checkpoint {path}: {exc}") from None


def save_style_params(path: Path, params: torch.Tensor) -> None:
    """Write a learned style, (CIN_PARAM_DIM,) or (1, CIN_PARAM_DIM), as ``.npz`` atomically."""
    array = params.detach().cpu().reshape(-1).numpy().astype(np.float32)
    if array.shape != (CIN_PARAM_DIM,):
        raise UserInputError(f"a CIN style has {CIN_PARAM_DIM} parameters, got {array.size}")
    with atomic_output(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, params=array)


def load_style_params(path: Path) -> torch.Tensor:
    """Read a learned style written by :func:`save_style_params`: (CIN_PARAM_DIM,) float32."""
    try:
        with np.load(path, allow_pickle=False) as data:
            array = data["params"]
    except (OSError, KeyError, ValueError) as exc:
        raise UserInputError(f"cannot read the learned style {path}: {exc}") from None
    if array.shape != (CIN_PARAM_DIM,):
        raise UserInputError(f"{path}: a CIN style has {CIN_PARAM_DIM} parameters, got shape {array.shape}")
    return torch.from_numpy(array.astype(np.float32))
