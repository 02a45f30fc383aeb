"""The writing stage: painted frames into the work folder's segments, then the output from them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vidstyle.io.assemble import AssemblyReport, assemble_sequence, assemble_video
from vidstyle.io.reader import VideoInfo
from vidstyle.io.writer import EncodeSettings, FrameFolderWriter, SegmentEncoder, segment_suffix
from vidstyle.pipeline.stages import FrameMessage
from vidstyle.resume import Segment, WorkDir


class SegmentSink:
    """Writes painted frames into segments of ``work``, each named by its first frame: a video file per
    segment, or a folder of images when ``image_suffix`` is given (an image-pattern output).

    A segment closes on the frame whose message carries a state; the render closes one every
    ``segment_frames`` frames (:meth:`is_seam`) and at the end of each rendered range.
    """

    def __init__(self, work: WorkDir, info: VideoInfo, encode: EncodeSettings, *, image_suffix: str | None,
                 segment_frames: int) -> None:
        self.work, self.info, self.encode = work, info, encode
        self.image_suffix = image_suffix
        self.segment_frames = segment_frames

    def is_seam(self, index: int) -> bool:
        """Whether frame ``index`` is the last of its segment."""
        return (index + 1) % self.segment_frames == 0

    def _path(self, first_frame: int) -> Path:
        suffix = "" if self.image_suffix else segment_suffix(self.encode.codec)
        return self.work.segment_path(first_frame, suffix)

    def _open(self, first_frame: int) -> SegmentEncoder | FrameFolderWriter:
        if self.image_suffix:
            return FrameFolderWriter(self._path(first_frame), self.image_suffix, self.info.rotation)
        return SegmentEncoder(self._path(first_frame), self.info, self.encode)

    def consume(self, messages: Iterator[FrameMessage]) -> None:
        """Write every message; a segment is recorded in the work folder once its file is complete."""
        for first in messages:
            message, count = first, 0
            with self._open(first.index) as writer:
                while True:
                    writer.write(message.image, message.index if self.image_suffix else message.pts)
                    count += 1
                    if message.state is not None:
                        break
                    message = next(messages)
            self.work.finish_segment(Segment(first.index, count, first.pts, message.pts), message.state)

    def assemble(self, output: Path, *, first_time: float, first_number: int) -> AssemblyReport | None:
        """Make ``output`` from the finished segments (a report for video outputs, None for images)."""
        segments = self.work.segments
        paths = [self._path(s.first_frame) for s in segments]
        if self.image_suffix:
            assemble_sequence(paths, str(output), first_number)
            return None
        return assemble_video(paths, [s.first_pts for s in segments], output, self.info, codec=self.encode.codec,
                              first_time=first_time, last_pts=segments[-1].last_pts)
