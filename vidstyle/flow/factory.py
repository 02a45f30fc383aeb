"""``--flow auto|dis|farneback|raft`` -> a FlowEstimator.

``auto`` picks RAFT on CUDA when its weights are already here (an explicit file or the torch hub
cache) and DIS otherwise; it never downloads. ``raft`` asked for by name may download its weights
through torch hub (the user asked for it); offline and without weights it is a
ResourceUnavailableError that says how to provide them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from vidstyle.errors import UserInputError
from vidstyle.flow.base import FlowEstimator
from vidstyle.flow.opencv import DisFlow, FarnebackFlow

FLOW_CHOICES = ("auto", "dis", "farneback", "raft")


@dataclass(frozen=True)
class _Options:
    raft_weights: Path | None
    scale: float
    allow_download: bool


# DIS ``medium`` with 2 iterations of variational refinement a scale instead of its 5: 11 ms of flow a
# 640x360 pair instead of 14 (cutBunny), 22 instead of 28 at 640x640 (the fox), for the same temporal
# figures: 48 frames, learned starry_night, warp / style / content against per-frame 0.226 / 1.348 /
# 0.893 against 0.235 / 1.336 / 0.896 (chaplin), 0.111 / 1.427 / 0.911 against 0.111 / 1.430 / 0.912
# (cutBunny), 0.170 / 1.463 / 0.857 against 0.169 / 1.455 / 0.859 (fox). Sintel EPE 1.00 / 1.16 px
# (clean / final) against 0.99 / 1.13. No refinement at all (0) was steadier still but less painted
# (chaplin style 1.41) and its Sintel EPE 1.11 / 1.26.
DIS_REFINEMENT_ITERATIONS = 2


def _dis(device: torch.device, options: _Options) -> FlowEstimator:
    return DisFlow(scale=options.scale, refinement_iterations=DIS_REFINEMENT_ITERATIONS)


def _farneback(device: torch.device, options: _Options) -> FlowEstimator:
    return FarnebackFlow(scale=options.scale)


def _raft(device: torch.device, options: _Options) -> FlowEstimator:
    # torchvision's model code loads only when RAFT is asked for. RAFT runs at full size: ``scale`` is
    # for the CPU estimators.
    from vidstyle.flow.raft import RaftFlow

    return RaftFlow(options.raft_weights, device=device, allow_download=options.allow_download)


_BUILDERS: dict[str, Callable[[torch.device, _Options], FlowEstimator]] = {
    "dis": _dis,
    "farneback": _farneback,
    "raft": _raft,
}


def _auto_choice(device: torch.device, raft_weights: Path | None) -> str:
    if device.type != "cuda":
        return "dis"
    if raft_weights is not None:
        return "raft"
    from vidstyle.flow.raft import raft_weights_available

    return "raft" if raft_weights_available() is not None else "dis"


def build_flow(
    name: str,
    device: torch.device | str = "cpu",
    *,
    raft_weights: Path | None = None,
    scale: float = 1.0,
    allow_download: bool = True,
) -> FlowEstimator:
    """Build the estimator ``name`` for ``device``.

    ``raft_weights``: a torchvision RAFT state-dict file (``--raft-weights``). ``scale`` in (0, 1]:
    DIS and Farneback compute at that fraction of the frame size. ``allow_download``: whether an
    explicit ``raft`` may fetch missing weights (``auto`` never does).
    """
    name = name.lower()
    if name not in FLOW_CHOICES:
        raise UserInputError(f"--flow must be one of {', '.join(FLOW_CHOICES)}, got {name!r}")
    device = torch.device(device)
    if name == "auto":
        name, allow_download = _auto_choice(device, raft_weights), False
    return _BUILDERS[name](device, _Options(raft_weights, scale, allow_download))
