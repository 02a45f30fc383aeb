"""Render one frame range: reader thread > frame processor (calling thread) > writer thread.

Decoding and encoding overlap the processing (the heavy part); the queues between them are short, so
memory stays constant whatever the length of the range. Each frame begins before the previous one
completes, so a processor that paints ahead (:meth:`FrameProcessor.paint_ahead`) runs the network on
frame t+1 while the calling thread finishes frame t.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Protocol

import numpy as np
import torch

from vidstyle.io.reader import FrameSource
from vidstyle.pipeline.stages import Cancelled, Channel, FrameMessage
from vidstyle.processor import FrameControls, FrameProcessor, StartedFrame

FrameRange = tuple[int, int | None]


class FrameSink(Protocol):
    """Where painted frames go (:class:`vidstyle.pipeline.sink.SegmentSink`)."""

    def is_seam(self, index: int) -> bool:
        """Whether frame ``index`` ends a segment (its message must then carry the temporal state)."""
        ...

    def consume(self, messages: Iterator[FrameMessage]) -> None:
        """Write messages until the iterator ends (runs in the writer thread)."""
        ...


class FramePlan(Protocol):
    """Per-frame values and output of a render (:class:`vidstyle.schedule.controls.RenderPlan`)."""

    @property
    def as_float(self) -> bool:
        """Whether the processor returns float32 frames (for :meth:`finish`)."""
        ...

    def frame_controls(self, message: FrameMessage) -> FrameControls | None:
        """The frame's style, strength and temporal weight (None: the processor's settings)."""
        ...

    def finish(self, message: FrameMessage, painted: np.ndarray) -> np.ndarray:
        """The image the sink writes, from the painted one (``message.image``: the decoded input)."""
        ...


def render_segment(source: FrameSource, frame_range: FrameRange, initial_state: dict[str, torch.Tensor],
                   sink: FrameSink, *, processor: FrameProcessor, warmup: int = 0,
                   on_frame: Callable[[FrameMessage], None] | None = None,
                   plan: FramePlan | None = None) -> dict[str, torch.Tensor]:
    """Render frames [a, b) of ``source`` (b None: to its end) into ``sink``; returns the temporal state
    after the last frame (CPU tensors).

    The processor starts from ``initial_state`` (a previous range's return value, or {} for a cold
    start), after painting the ``warmup`` frames before ``a`` without writing them, so the temporal
    state settles on frames that are not kept. The last frame of the range closes its segment.
    ``on_frame`` is told of each frame handed to the sink (progress). ``plan`` gives each frame's
    controls (by its index) and the image written (matte, float output); None paints every frame alike.
    """
    a, b = frame_range
    processor.load_state_dict({k: v.to(processor.device) for k, v in initial_state.items()})
    stop = threading.Event()
    decoded, painted = Channel(stop), Channel(stop)
    time_base = source.info.time_base
    as_float = plan is not None and plan.as_float

    def complete(message: FrameMessage, started: StartedFrame, last: bool) -> None:
        image = processor.complete(started, as_float=as_float)
        if message.index < a:
            return  # warm-up frame
        if plan is not None:
            image = plan.finish(message, image)
        closes = last or sink.is_seam(message.index)
        painted.put(replace(message, image=image, state=_cpu_state(processor) if closes else None))
        if on_frame is not None:
            on_frame(message)

    with ThreadPoolExecutor(2, thread_name_prefix="vidstyle") as pool, processor.stage_threads():
        reading = pool.submit(_stage, stop, _read, source, max(0, a - warmup), b, decoded)
        writing = pool.submit(_stage, stop, sink.consume, painted.drain())
        try:
            # frame t+1 begins (its painting starts, where the processor paints ahead) before frame t
            # completes (its temporal step)
            begun: tuple[FrameMessage, StartedFrame] | None = None
            for frame in decoded.drain(reading):
                message = FrameMessage(frame.index, frame.pts, float(frame.pts * time_base), frame.image)
                controls = plan.frame_controls(message) if plan is not None else None
                started = processor.begin(message.image, controls)
                if begun is not None:
                    complete(*begun, last=False)
                begun = message, started
            if begun is not None:
                complete(*begun, last=True)
            painted.close()
            writing.result()
        except BaseException as exc:
            stop.set()
            if isinstance(exc, Cancelled):  # a stage failed: its error is the one to report
                _raise_first_error(reading, writing)
            raise
    return _cpu_state(processor)


def _stage(stop: threading.Event, fn: Callable, *args) -> None:
    """Run one thread's job; any error stops the other stages."""
    try:
        fn(*args)
    except BaseException:
        stop.set()
        raise


def _read(source: FrameSource, start: int, end: int | None, out: Channel) -> None:
    """Put frames [start, end) on ``out``, never taking a frame past ``end`` from the source."""
    if end is None or start < end:
        for frame in source.frames(start):
            out.put(frame)
            if end is not None and frame.index + 1 >= end:
                break
    out.close()


def _raise_first_error(*stages: Future) -> None:
    for stage in stages:
        error = stage.exception()
        if error is not None and not isinstance(error, Cancelled):
            raise error


def _cpu_state(processor: FrameProcessor) -> dict[str, torch.Tensor]:
    """A CPU copy of the processor's temporal state, safe to hand to the writer thread."""
    return {k: v.detach().to("cpu", copy=True) for k, v in processor.state_dict().items()}
