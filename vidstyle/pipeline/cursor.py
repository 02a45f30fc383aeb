"""A frame source that keeps its decoder open between ranges, so consecutive segments never re-seek."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

from vidstyle.io.reader import Frame, FrameSource, VideoInfo


class FrameCursor:
    """Wraps a :class:`FrameSource`: ``frames(start)`` continues the open decoder when ``start`` is where
    the previous iteration stopped, and asks the source to seek otherwise.

    ``pts_before(start)``: the pts of the frame rendered just before ``start`` (None: not known). A
    source seeks by packet, so after frames lost to damage a seek lands early; the frames up to that
    pts are skipped and the rest numbered from ``start``, so a resumed render neither repeats nor misses
    a frame."""

    def __init__(self, source: FrameSource, pts_before: Callable[[int], int | None] = lambda _: None) -> None:
        self.source = source
        self.pts_before = pts_before
        self._open: Iterator[Frame] | None = None
        self._next = 0
        self._end: int | None = None  # the frame count, once an iteration reached the end

    @property
    def info(self) -> VideoInfo:
        return self.source.info

    @property
    def first_time(self) -> float | None:
        return self.source.first_time

    def count_frames(self) -> int:
        return self.source.count_frames()

    def frames(self, start: int = 0) -> Iterator[Frame]:
        if self._end is not None and start >= self._end:
            return
        if self._open is None or start != self._next:
            self._open, self._next = self._seek(start), start
        for frame in self._open:  # leaving this loop early leaves the decoder open for the next call
            self._next = frame.index + 1
            yield frame
        self._open, self._end = None, self._next

    def _seek(self, start: int) -> Iterator[Frame]:
        after = self.pts_before(start) if start > 0 else None
        index = start
        for frame in self.source.frames(start):
            if after is not None and frame.pts <= after:
                continue
            yield frame if frame.index == index else replace(frame, index=index)
            index += 1
