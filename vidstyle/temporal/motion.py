"""Motion between the previous and the current input frame: the flow and the reliability mask."""

from __future__ import annotations

from typing import NamedTuple

import torch

from vidstyle.flow.base import FlowEstimator
from vidstyle.flow.occlusion import consistency_mask


class Motion(NamedTuple):
    """``flow``: (1, 2, H, W) pixels, current -> previous (warps the previous output onto the current
    frame); ``mask``: (1, 1, H, W), 1 where the pixel was visible in the previous frame."""

    flow: torch.Tensor
    mask: torch.Tensor


def estimate_motion(estimator: FlowEstimator, previous: torch.Tensor, current: torch.Tensor) -> Motion:
    """Flow both ways on the *input* frames ((1, 3, H, W) 0..1) and Ruder's forward-backward mask."""
    cur_to_prev = estimator(current, previous)
    prev_to_cur = estimator(previous, current)
    return Motion(cur_to_prev, consistency_mask(prev_to_cur, cur_to_prev))
