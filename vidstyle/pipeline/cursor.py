"""A frame source that keeps its decoder open between ranges, so consecutive segments never re-seek."""

from __future__ import annotations

from collections.abc import Iterator

from vidstyle.io.reader import Frame, FrameSource, VideoInfo


class FrameCursor:
    """Wraps a :class:`FrameSource`: ``frames(start)`` continues the open decoder when ``start`` is where
    the previous iteration stopped, and asks the source to seek otherwise."""

    def __init__(self, source: FrameSource) -> None:
        self.source = source
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
            self._open, self._next = self.source.frames(start), start
        for frame in self._open:  # leaving this loop early leaves the decoder open for the next call
            self._next = frame.index + 1
            yield frame
        self._open, self._end = None, self._next
