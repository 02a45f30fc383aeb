"""Progress on stderr: frames done/total, fps and ETA (rich), or nothing with --quiet."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.text import Text
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

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
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task(description, total=None)
        started = False

        def update(done: int, total: int | None) -> None:
            nonlocal started
            if not started:
                progress.update(task, total=total, completed=done)
                progress.reset(task, total=total, completed=done)
                started = True
            progress.update(task, completed=done, total=max(total or 0, done) or None)

        yield update
