"""Ruder et al. (2016) for ``--method optimize``: each frame's optimisation starts from the warped
previous result and carries a temporal loss, weighted by the reliability mask; with ``long_term``,
older frames anchor what the previous one did not show (their flows computed directly, both ways)."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from vidstyle.flow.base import FlowEstimator
from vidstyle.flow.warp import backward_warp
from vidstyle.temporal.base import Paint, TemporalSolver
from vidstyle.temporal.longterm import History, add_anchors
from vidstyle.temporal.motion import estimate_motion
from vidstyle.temporal.scenecut import is_scene_cut


class RuderTemporalFilter:
    """Per-frame solve with Ruder's short-term temporal loss; a
    :class:`~vidstyle.temporal.base.TemporalFilter` like FlowTemporalFilter.

    The temporal term is part of the solve, so the filter is built with the ``solver`` that takes it
    (:class:`~vidstyle.temporal.base.TemporalSolver`); ``paint`` serves the first frame and scene
    cuts. ``content``: (1, 3, H, W) float RGB 0..1. Reliable pixels start from the previous stylized
    frame warped by the input's flow, disoccluded ones from the solver's ``disocclusion_fill``.
    """

    def __init__(self, flow: FlowEstimator, solver: TemporalSolver, temporal_weight: float | None = None, *,
                 long_term: tuple[int, ...] = ()) -> None:
        self.flow = flow
        self.solver = solver
        self.temporal_weight = temporal_weight
        self.long_term = long_term
        self.reset()

    def reset(self) -> None:
        self._prev_content: torch.Tensor | None = None
        self._prev_output: torch.Tensor | None = None
        self._history = History(self.long_term)

    def step(self, content: torch.Tensor, paint: Paint, weight: float | None = None) -> torch.Tensor:
        """Frame t's output; ``weight`` replaces the temporal weight for this frame when given."""
        if self._prev_content is None or self._prev_content.shape != content.shape:
            out = paint(content)
            self._history.clear()
        else:
            self._history.advance(self._prev_content, self._prev_output)
            motion = estimate_motion(self.flow, self._prev_content, content)
            if is_scene_cut(motion.mask):
                out = paint(content)
                self._history.clear()
            else:
                warped = backward_warp(self._prev_output, motion.flow)
                init = torch.lerp(self.solver.disocclusion_fill(content), warped, motion.mask)
                anchor, mask = add_anchors(warped, motion.mask, self._older_anchors(content))
                out = self.solver.stylize_with_temporal(
                    content, init, anchor, mask, self.temporal_weight if weight is None else weight)
        self._prev_content, self._prev_output = content, out.detach()
        return out

    def _older_anchors(self, content: torch.Tensor) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(older output warped onto frame t, its forward-backward mask), nearest first."""
        for past in self._history.anchors():
            motion = estimate_motion(self.flow, past.content, content)
            yield backward_warp(past.output, motion.flow), motion.mask

    def state_dict(self) -> dict[str, torch.Tensor]:
        if self._prev_content is None:
            return {}
        return {"prev_content": self._prev_content, "prev_output": self._prev_output,
                **self._history.state_dict()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.reset()
        self._prev_content = state.get("prev_content")
        self._prev_output = state.get("prev_output")
        self._history.load_state_dict(state)
