"""A whole render: consecutive segments of one source into the work folder, then the output."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from vidstyle.errors import RenderInterrupted
from vidstyle.io.reader import FrameSource, VideoInfo
from vidstyle.io.sequence import is_pattern
from vidstyle.io.writer import EncodeSettings
from vidstyle.pipeline.cursor import FrameCursor
from vidstyle.pipeline.segment import FramePlan, render_segment
from vidstyle.pipeline.sink import SegmentSink
from vidstyle.pipeline.stages import FrameMessage
from vidstyle.processor import FrameProcessor
from vidstyle.resume import WorkDir

ProgressCallback = Callable[[int, int | None], None]


@dataclass(frozen=True)
class RenderResult:
    """Summary of a finished render (the ``--json`` fields come from here)."""

    output: Path
    frames: int
    seconds: float
    resumed_frames: int
    audio_copied: int = 0
    audio_transcoded: int = 0

    @property
    def fps(self) -> float:
        done = self.frames - self.resumed_frames
        return done / self.seconds if self.seconds > 0 else 0.0


def make_sink(info: VideoInfo, size: tuple[int, int], output: Path, work: WorkDir, encode: EncodeSettings,
              segment_frames: int) -> SegmentSink:
    """The sink of a render of a source described by ``info`` into ``output``, frames of ``size``
    (width, height; what the processor's ``output_size`` says)."""
    return SegmentSink(work, replace(info, width=size[0], height=size[1]), encode,
                       image_suffix=output.suffix if is_pattern(output) else None, segment_frames=segment_frames)


def render(source: FrameSource, processor: FrameProcessor, output: Path, work: WorkDir, *,
           encode: EncodeSettings = EncodeSettings(), segment_frames: int = 240, first_number: int = 1,
           progress: ProgressCallback | None = None, plan: FramePlan | None = None) -> RenderResult:
    """Render every frame of ``source`` through ``processor`` into ``output`` (video or image pattern).

    Finished segments in ``work`` are skipped (``--resume``: the source seeks to the first missing
    frame); the output appears only at the end. ``plan``: per-frame controls and output (see
    :func:`render_segment`).
    """
    info = source.info
    sink = make_sink(info, processor.output_size(info.width, info.height), output, work, encode, segment_frames)
    skip = work.contiguous_end()
    state = work.state_before(skip)
    cursor = FrameCursor(source, work.pts_before)
    done = skip

    def on_frame(message: FrameMessage) -> None:
        nonlocal done
        done = message.index + 1
        if progress is not None:
            progress(done, source.info.frame_count)

    start = time.perf_counter()
    end = skip
    try:
        while done == end:  # until the source ends inside a segment (or exactly at its end)
            end = (end // segment_frames + 1) * segment_frames
            state = render_segment(cursor, (done, end), state, sink, processor=processor, on_frame=on_frame,
                                   plan=plan)
    except KeyboardInterrupt:
        raise RenderInterrupted(
            f"interrupted after {work.frames_done} finished frames, kept in {work.path}; "
            "run the same command with --resume to continue"
        ) from None
    report = sink.assemble(output, first_time=source.first_time or 0.0, first_number=first_number)
    seconds = time.perf_counter() - start
    frames = work.frames_done
    work.remove()
    return RenderResult(output=output, frames=frames, seconds=seconds, resumed_frames=skip,
                        audio_copied=report.audio_copied if report else 0,
                        audio_transcoded=report.audio_transcoded if report else 0)
