"""The processing size of a live session, changed now and then to hold a target frame rate."""

from __future__ import annotations

import numpy as np

from vidstyle.errors import UserInputError

MIN_SIDE = 96  # smallest processing size (long side) the adaptation goes down to

class AdaptiveSize:
    """Change the processing size (long side) now and then so the work per frame fits ``target_fps``.

    Feed :meth:`observe` the seconds each frame took; after ``window`` frames (or ``max_wait`` seconds
    of them) it compares their median with the budget 1/target_fps and returns a new side, or None to
    keep the current one: it shrinks when frames take more than 1/1.1 of the budget and grows when they
    take less than 1/1.6 of it (the median hides slow frames, so it aims below the budget). Cost grows
    with the pixel count, so the side scales by 0.9 sqrt(budget / time), which lands inside that band;
    growth is capped at 25 % a step, rounded to ``step`` and held in [``min_side``, ``max_side``]. The
    first frame after a change (warm-up) is not measured.
    """

    def __init__(self, side: int, *, target_fps: float, min_side: int = MIN_SIDE, max_side: int | None = None,
                 window: int = 12, max_wait: float = 2.0, step: int = 16) -> None:
        if target_fps <= 0:
            raise UserInputError(f"--target-fps must be positive, got {target_fps}")
        self.max_side = max_side or side
        self.min_side = min(min_side, self.max_side)
        self.side = int(min(max(side, self.min_side), self.max_side))
        self.target_fps = target_fps
        self.window, self.max_wait, self.step = window, max_wait, step
        self.changes = 0
        self._samples: list[float] = []
        self._skip = 1

    def observe(self, seconds: float) -> int | None:
        if self._skip:
            self._skip -= 1
            return None
        self._samples.append(seconds)
        if len(self._samples) < self.window and not (len(self._samples) >= 2 and sum(self._samples) >= self.max_wait):
            return None
        measured = float(np.median(self._samples))
        self._samples.clear()
        ratio = (1.0 / self.target_fps) / max(measured, 1e-6)
        if 1.1 <= ratio <= 1.6:  # on target with some room: keep the size (and the temporal history)
            return None
        proposed = self.side * min(np.sqrt(ratio) * 0.9, 1.25)
        new = int(min(max(round(proposed / self.step) * self.step, self.min_side), self.max_side))
        if new == self.side:
            return None
        self.side = new
        self.changes += 1
        self._skip = 1
        return new
