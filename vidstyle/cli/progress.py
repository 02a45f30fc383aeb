"""Progress on stderr: frames done/total, fps and ETA (rich), or nothing with --quiet; and when the
first frame was done (``run --json``'s ``first_frame_seconds``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.text import Text
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

STARTED = time.perf_counter()  # the command line's start (imports of Python and typer before it: ~0.1 s)
# Redraws a second: frames, fps and ETA need no more. benchmarks/progress_bar.py measures what the bar
# costs a render against --quiet, at this rate and at rich's default of 10: nothing measurable at either.
REFRESH_PER_SECOND = 2


def stderr_progress(*columns) -> Progress:
    """A rich progress display on stderr that redraws ``REFRESH_PER_SECOND`` times a second."""
    return Progress(*columns, console=Console(stderr=True), refresh_per_second=REFRESH_PER_SECOND)


class _FpsColumn(TextColumn):
    """Frames per second over the whole render so far."""

    def __init__(self) -> None:
        super().__init__("")

    def render(self, task) -> Text:  # rich's column API
        speed = task.finished_speed or task.speed
        return Text("  ... fps" if speed is None else f"{speed:5.1f} fps")


class FrameProgress:
    """The pipeline's ``callback(done, total)``: draws a bar on stderr unless quiet, and records
    ``first_frame_seconds``, the time from the command line's start to the first painted frame."""

    def __init__(self, description: str, quiet: bool) -> None:
        self.description = description
        self.first_frame_seconds: float | None = None
        self._bar = None if quiet else stderr_progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("frames"),
            _FpsColumn(), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
        self._task = None

    def __call__(self, done: int, total: int | None) -> None:
        if self.first_frame_seconds is None:
            self.first_frame_seconds = round(time.perf_counter() - STARTED, 3)
        if self._bar is None:
            return
        if self._task is None:  # drawn from the first frame on, so early errors print alone
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=total, completed=done)
        self._bar.update(self._task, completed=done, total=max(total or 0, done) or None)

    def stop(self) -> None:
        if self._task is not None:
            self._bar.stop()


@contextmanager
def frame_progress(description: str, quiet: bool) -> Iterator[FrameProgress]:
    """Yield a :class:`FrameProgress`; the bar is taken down on leaving, error or not."""
    progress = FrameProgress(description, quiet)
    try:
        yield progress
    finally:
        progress.stop()
