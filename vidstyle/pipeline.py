"""reader > flow + stylize + temporal > writer, as three stages so decoding and encoding overlap compute.

Decoding runs in a reader thread and encoding in a writer thread; the frame processor (the heavy
part) runs in the calling thread. Queues are short, so memory stays constant whatever the length.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from vidstyle.errors import RenderInterrupted
from vidstyle.io.reader import FrameSource, VideoInfo
from vidstyle.io.sequence import is_pattern
from vidstyle.io.writer import (
    EncodeSettings,
    FrameFolderWriter,
    SegmentEncoder,
    assemble_sequence,
    assemble_video,
    padded_size,
    segment_suffix,
)
from vidstyle.processor import FrameProcessor
from vidstyle.resume import Segment, WorkDir

QUEUE_DEPTH = 4
_END = object()

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


class _Worker(threading.Thread):
    """A daemon thread that keeps the first exception it meets for the main thread to re-raise."""

    def __init__(self, target: Callable[[], None], name: str) -> None:
        super().__init__(name=name, daemon=True)
        self._target_fn = target
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._target_fn()
        except BaseException as exc:  # handed to the main thread, which decides
            self.error = exc


def _put(q: queue.Queue, item: object, stop: threading.Event) -> bool:
    """Put unless asked to stop; False when stopping."""
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _drain(q: queue.Queue, worker: _Worker) -> Iterator:
    """Items from ``q`` until the end marker; re-raises the worker's exception."""
    while True:
        try:
            item = q.get(timeout=0.1)
        except queue.Empty:
            if worker.error is not None:
                raise worker.error
            continue
        if item is _END:
            if worker.error is not None:
                raise worker.error
            return
        yield item


def render(source: FrameSource, processor: FrameProcessor, output: Path, work: WorkDir, *,
           encode: EncodeSettings = EncodeSettings(), segment_frames: int = 240, first_number: int = 1,
           progress: ProgressCallback | None = None) -> RenderResult:
    """Render every frame of ``source`` through ``processor`` into ``output`` (video or image pattern).

    Finished segments in ``work`` are skipped (``--resume``); the output appears only at the end.
    """
    info = source.info
    to_sequence = is_pattern(output)
    out_w, out_h = processor.output_size(info.width, info.height)
    out_info = info if (out_w, out_h) == (info.width, info.height) else _resized_info(info, out_w, out_h)
    skip = work.frames_done
    if skip:
        processor.load_state_dict({k: v.to(processor.device) for k, v in work.last_state().items()})
    stop = threading.Event()
    decoded: queue.Queue = queue.Queue(QUEUE_DEPTH)
    painted: queue.Queue = queue.Queue(QUEUE_DEPTH)

    def read() -> None:
        try:
            for frame in source.frames():
                if not _put(decoded, frame, stop):
                    return
        finally:
            _put(decoded, _END, stop)

    def write() -> None:
        try:
            _write_segments(_drain(painted, main_marker), work, out_info, encode, to_sequence,
                            output.suffix, segment_frames)
        finally:
            stop.set()

    main_marker = _Worker(lambda: None, "main")  # carries the main thread's error to the writer
    reader, writer = _Worker(read, "vidstyle-reader"), _Worker(write, "vidstyle-writer")
    start = time.perf_counter()
    reader.start()
    writer.start()
    total = info.frame_count
    last_pts = 0
    try:
        for frame in _drain(decoded, reader):
            last_pts = frame.pts
            if frame.index < skip:
                continue
            image = processor.process(frame.image)
            seam = (frame.index + 1) % segment_frames == 0
            if not _put(painted, (image, frame.pts, frame.index, _cpu_state(processor) if seam else None), stop):
                break
            if progress is not None:
                progress(frame.index + 1, total)
        final_state = _cpu_state(processor)
        _put(painted, ("final", final_state), stop)
        _put(painted, _END, stop)
        writer.join()
        if writer.error is not None:
            raise writer.error
    except KeyboardInterrupt:
        main_marker.error = KeyboardInterrupt()
        stop.set()
        writer.join(timeout=30)
        raise RenderInterrupted(
            f"interrupted after {work.frames_done} finished frames, kept in {work.path}; "
            "run the same command with --resume to continue"
        ) from None
    except BaseException as exc:
        main_marker.error = exc
        stop.set()
        writer.join(timeout=30)
        raise
    finally:
        stop.set()
    report = None
    if to_sequence:
        folders = [work.segment_path(s.index, "") for s in work.segments]
        assemble_sequence(folders, str(output), first_number)
    else:
        pad = tuple(p - s for p, s in zip(padded_size(out_w, out_h, encode.codec), (out_w, out_h)))
        segments = [work.segment_path(s.index, segment_suffix(encode.codec)) for s in work.segments]
        first_times = [s.first_pts * info.time_base for s in work.segments]
        t0 = source.first_time or 0.0
        t1 = t0 + float(last_pts * info.time_base + 1 / info.frame_rate)  # audio ends with the last frame
        report = assemble_video(segments, first_times, output, out_info, source=None if info.is_sequence else info.path,
                                t0=t0, t1=t1, padding=pad)
    seconds = time.perf_counter() - start
    frames = work.frames_done
    work.remove()
    return RenderResult(output=output, frames=frames, seconds=seconds, resumed_frames=skip,
                        audio_copied=report.audio_copied if report else 0,
                        audio_transcoded=report.audio_transcoded if report else 0)


def _cpu_state(processor: FrameProcessor) -> dict:
    """A CPU copy of the processor's temporal state, safe to hand to the writer thread."""
    return {k: v.detach().to("cpu", copy=True) for k, v in processor.state_dict().items()}


def _resized_info(info: VideoInfo, width: int, height: int) -> VideoInfo:
    return replace(info, width=width, height=height)


def _write_segments(items: Iterator, work: WorkDir, info: VideoInfo, encode: EncodeSettings, to_sequence: bool,
                    suffix: str, segment_frames: int) -> None:
    """Consume (image, pts, index, state) items; close a segment every ``segment_frames`` frames."""
    writer = None
    first = first_pts = 0
    seg_index = len(work.segments)
    count = 0

    def open_segment():
        if to_sequence:
            return FrameFolderWriter(work.segment_path(seg_index, ""), suffix, info.rotation)
        return SegmentEncoder(work.segment_path(seg_index, segment_suffix(encode.codec)), info, encode)

    try:
        for item in items:
            if isinstance(item[0], str):  # ("final", state) after the last frame
                if writer is not None:
                    writer.__exit__(None, None, None)
                    work.finish_segment(Segment(seg_index, first, first_pts, count), item[1])
                    writer = None
                continue
            image, pts, index, state = item
            if writer is None:
                writer = open_segment().__enter__()
                first, first_pts, count = index, pts, 0
            writer.write(image, pts if not to_sequence else index)
            count += 1
            if state is not None:
                writer.__exit__(None, None, None)
                work.finish_segment(Segment(seg_index, first, first_pts, count), state)
                writer = None
                seg_index += 1
    except BaseException as exc:
        if writer is not None:
            writer.__exit__(type(exc), exc, exc.__traceback__)
        raise
