"""What a temporal filter is to the frame processor, whichever method paints the frames."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import torch

# Frame t's fresh stylization: (1, 3, H, W) float RGB 0..1 -> the same shape and range. The processor
# passes its stylizer with this frame's style bound, so a filter never sees (or narrows) the stylizer.
Paint = Callable[[torch.Tensor], torch.Tensor]


class TemporalFilter(Protocol):
    """Makes successive stylized frames agree where the scene is visible in both.

    ``step(content, paint, weight)``: ``content`` (1, 3, H, W) float RGB 0..1, frame t at processing
    size; ``paint`` stylizes a frame from scratch (the filter calls it when it needs a fresh frame);
    ``weight`` overrides the filter's temporal weight for this frame (None keeps it). Returns frame t's
    output, the same shape and range. The state (previous frames) round-trips through
    ``state_dict``/``load_state_dict`` as tensors.
    """

    def step(self, content: torch.Tensor, paint: Paint, weight: float | None = None) -> torch.Tensor: ...

    def reset(self) -> None: ...

    def state_dict(self) -> dict[str, torch.Tensor]: ...

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None: ...


class TemporalSolver(Protocol):
    """A stylizer that takes the temporal term into its own solve (``--method optimize``, Ruder et al.).

    ``content``, ``init``, ``warped_prev``: (1, 3, H, W) float RGB 0..1; ``mask``: (1, 1, H, W) 0..1,
    1 where ``warped_prev`` is reliable; ``temporal_weight`` None uses the solver's own. Returns frame
    t, (1, 3, H, W) 0..1. ``disocclusion_fill(content)``: what ``init`` holds where the warped previous
    frame is not trusted, (1, 3, H, W) 0..1.
    """

    def disocclusion_fill(self, content: torch.Tensor) -> torch.Tensor: ...

    def stylize_with_temporal(self, content: torch.Tensor, init: torch.Tensor, warped_prev: torch.Tensor,
                              mask: torch.Tensor, temporal_weight: float | None = None) -> torch.Tensor: ...
