"""The Stylizer protocol: what the pipeline, the temporal solver and the webcam loop call."""

from __future__ import annotations

from typing import Protocol

import torch


class Stylizer(Protocol):
    """Turns one content frame into a stylized frame of the same size.

    ``content``: (1, 3, H, W) float RGB in 0..1 on ``self.device``; returns the same shape and range.
    ``style``: the family's style input for this frame (a network's style vector or weights, see
    :mod:`vidstyle.stylize.feedforward`), or None for the style the stylizer was built with.
    Stateless across frames: temporal consistency is applied outside (``vidstyle.temporal``).
    """

    name: str
    device: torch.device

    def stylize(self, content: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor: ...


class IdentityStylizer:
    """Returns the frame unchanged; drives the pipeline in tests and I/O benchmarks."""

    name = "identity"

    def __init__(self, device: torch.device | str = "cpu") -> None:
        self.device = torch.device(device)

    def stylize(self, content: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        return content
