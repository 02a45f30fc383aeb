"""How a style is learned: the settings of ``vidstyle styles learn`` (plain data, no torch, so the
command line reads its defaults without loading anything)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vidstyle.errors import UserInputError

StepCallback = Callable[[int, int, float], None]  # (steps done, steps in all, loss of the last step)


@dataclass(frozen=True)
class LearnSettings:
    """How a style is learned (README "Presets"). Started from the nearest built-in style, Adam at 0.05
    gets The Starry Night's style ratio from 0.165 to 0.107 in 40 steps of one 192² crop (Magenta: 0.279);
    the defaults take about 2 minutes on one CPU core. Style 1e-5 against content 1 (the two terms
    start about equal)."""

    steps: int = 100
    size: int = 192
    batch: int = 2
    learning_rate: float = 0.05
    content_weight: float = 1.0
    style_weight: float = 1e-5
    temporal_weight: float = 0.0
    style_side: int = 384
    vgg_scale: float = 0.6  # the output is judged at this scale: frames painted at 640 px, measured at 384
    seed: int = 0

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch < 1:
            raise UserInputError(f"--steps and the batch must be at least 1, got {self.steps}, {self.batch}")
        if min(self.learning_rate, self.content_weight, self.style_weight, self.temporal_weight) < 0:
            raise UserInputError("learning rate and loss weights must not be negative")
