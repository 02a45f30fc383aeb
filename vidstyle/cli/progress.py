"""Progress on stderr: frames done/total, fps and ETA (rich), or nothing with --quiet."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

if TYPE_CHECKING:  # the pipeline imports torch: not for a --help
    from vidstyle.pipeline import ProgressCallback


class _FpsColumn(TextColumn):
    """Frames per second over the whole render so far."""

    def __init__(self) -> None:
        super().__init__("")

    def render(self, task) -> Text:  # rich's column API
        speed = task.finished_speed or task.speed
        return Text("  ... fps" if speed is None else f"{speed:5.1f} fps")


@contextmanager
def frame_progress(description: str, quiet: bool) -> Iterator[ProgressCallback | None]:
    """Yield a ``callback(done, total)`` drawing a bar on stderr, or None when quiet."""
    if quiet:
        yield None
        return
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("frames"),
               _FpsColumn(), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    progress = Progress(*columns, console=Console(stderr=True))
    task = None

    def update(done: int, total: int | None) -> None:
        nonlocal task
        if task is None:  # drawn from the first frame on, so early errors print alone
            progress.start()
            task = progress.add_task(description, total=total, completed=done)
        progress.update(task, completed=done, total=max(total or 0, done) or None)

    try:
        yield update
    finally:
        if task is not None:
            progress.stop()
