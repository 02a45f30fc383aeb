"""The FlowEstimator protocol shared by DIS, Farneback and RAFT.

Convention: ``flow = estimator(source, target)`` is (B, 2, H, W) float pixels, (x, y), per pixel of
``source``: source(p) ~ target(p + flow(p)). So ``backward_warp(target, flow)`` rebuilds ``source``.
For temporal consistency, ``estimator(frame_t, frame_prev)`` gives the flow that brings the previous
stylized frame onto frame t.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch


@runtime_checkable
class FlowEstimator(Protocol):
    """``source``, ``target``: (B, 3, H, W) float RGB in 0..1, same device; returns flow on that device."""

    name: str

    def __call__(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor: ...
