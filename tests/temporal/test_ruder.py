"""Ruder et al.'s scheme for ``--method optimize``: what the optimiser is asked to stay close to, and where."""

from __future__ import annotations

import torch

from vidstyle.io.convert import to_tensor
from vidstyle.synth import synth_frames
from vidstyle.temporal.ruder import RuderTemporalFilter


class RecordingOptimizer:
    """Stands in for OptimizeStylizer: remembers the temporal target and mask it is given."""

    name, device = "optimize", torch.device("cpu")

    def __init__(self) -> None:
        self.calls: list[tuple[torch.Tensor, torch.Tensor]] = []

    def stylize(self, content: torch.Tensor) -> torch.Tensor:
        return 1.0 - content

    def disocclusion_fill(self, content: torch.Tensor) -> torch.Tensor:
        return content

    def stylize_with_temporal(self, content, init, warped, mask, weight) -> torch.Tensor:
        self.calls.append((warped, mask))
        return 1.0 - content


class PoleFlow:
    """No motion, except where one frame shows the pole and the other does not: there the flow is
    nonsense that the forward-backward test rejects (+7 px both ways)."""

    name = "pole"

    def __call__(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        flow = torch.zeros(1, 2, *source.shape[-2:])
        flow[:, 0] = 7.0 * ((source - target).abs().sum(dim=1) > 0.3)
        return flow


def test_long_term_anchors_what_one_frame_hid():
    bg = to_tensor(synth_frames(1, 96, 72, seed=31)[0])
    pole = bg.clone()
    pole[..., 40:52] = 0.02
    frames = [bg] * 6 + [pole] + [bg] * 2

    def target_after_the_pole(long_term: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        optimizer = RecordingOptimizer()
        filt = RuderTemporalFilter(PoleFlow(), optimizer, long_term=long_term)
        for frame in frames:
            filt.step(frame, optimizer.stylize)
        warped, mask = optimizer.calls[6]  # frame 7: the first after the pole
        return warped[..., 42:50], mask[..., 42:50]

    _, short_mask = target_after_the_pole(())
    anchor, long_mask = target_after_the_pole((2, 4))
    assert short_mask.max() == 0.0  # frame 6 showed the pole there: no constraint
    assert long_mask.min() == 1.0  # frame 5 showed the scene: constrained to it ...
    torch.testing.assert_close(anchor, (1.0 - bg)[..., 42:50])  # ... to frame 5's output


def test_weight_per_frame_reaches_the_solve():
    weights = []

    class WeightRecorder(RecordingOptimizer):
        def stylize_with_temporal(self, content, init, warped, mask, weight) -> torch.Tensor:
            weights.append(weight)
            return 1.0 - content

    frame = to_tensor(synth_frames(1, 48, 32, seed=2)[0])
    solver = WeightRecorder()
    filt = RuderTemporalFilter(PoleFlow(), solver, temporal_weight=30.0)
    painted = [filt.step(frame, lambda c: torch.zeros_like(c)), filt.step(frame, solver.stylize),
               filt.step(frame, solver.stylize, 5.0)]
    assert weights == [30.0, 5.0]  # the filter's own, then the frame's
    assert painted[0].abs().sum() == 0  # the first frame is painted by the processor's paint, not the solver
