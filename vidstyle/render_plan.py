"""The per-frame plan of a render from its settings: controls, matte, float output, confidence mattes.

The local render (:func:`vidstyle.job.run_job`) and every Ray worker build the same plan from the same
:class:`vidstyle.job.RenderSettings`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from vidstyle.compositing import MatteCompositor
from vidstyle.errors import UserInputError, VidstyleError
from vidstyle.io.images import read_image_float
from vidstyle.io.matte import ConfidenceWriter, MatteSource, confidence_pattern
from vidstyle.io.reader import FrameSource, parse_time
from vidstyle.io.sequence import find_sequence, first_output_number, is_pattern
from vidstyle.processor import FrameProcessor
from vidstyle.schedule.controls import RenderPlan, track_controls
from vidstyle.schedule.timeline import probe_timeline
from vidstyle.schedule.track import ControlTrack, build_track

if TYPE_CHECKING:
    from vidstyle.job import RenderSettings


@functools.lru_cache(maxsize=4)
def control_track(settings: RenderSettings) -> ControlTrack | None:
    """The per-frame values of the render (what ``vidstyle curves`` shows for the same options and
    range), or None when every control is one number; computed once per settings in a process."""
    if settings.controls.is_static:
        return None
    timeline = probe_timeline(settings.input, fps=settings.fps, start=parse_time(settings.start),
                              end=parse_time(settings.end), max_frames=settings.max_frames)
    return build_track(settings.controls, timeline)


def check_controls(settings: RenderSettings) -> None:
    """Refuse controls the chosen network cannot follow, before any model is loaded."""
    controls, style = settings.controls, settings.processing.style
    if controls.style_moves() and (style.model is not None or style.method != "feedforward"):
        raise UserInputError("style schedules, --style-per-shot and style-scale curves drive the feed-forward "
                             "preset networks: not --model or --method optimize")
    if controls.matte is not None and settings.processing.keep_processing_size:
        raise UserInputError("--matte composites at the input's size: drop --keep-processing-size")


def _skipped_frames(source: FrameSource) -> int:
    """Frames of an image sequence before the render's first (skipped by --start)."""
    source.count_frames()  # sets first_time
    return int(round((source.first_time or 0.0) * float(source.info.frame_rate)))


def output_first_number(settings: RenderSettings, source: FrameSource) -> int:
    """Number of the first frame of an image-sequence output (``--start-number``, else the input's own)."""
    info = source.info
    if not info.is_sequence:
        return first_output_number(None, 0, settings.start_number)
    return first_output_number(info.first_number, _skipped_frames(source), settings.start_number)


def _float_output(settings: RenderSettings, source: FrameSource) -> bool:
    """Whether an image-sequence output is written from float frames: EXR (half) and TIFF (16-bit)
    always, PNG when the input has more than 8 bits, any with a matte (exact input pixels)."""
    if not is_pattern(settings.output):
        return False
    suffix = settings.output.suffix.lower()
    if suffix in (".exr", ".tif", ".tiff") or settings.controls.matte is not None:
        return True
    return suffix == ".png" and source.info.is_sequence and _is_deep(find_sequence(settings.input).paths[0])


def _is_deep(path: Path) -> bool:
    """Whether an image file holds more than 8 bits per channel (EXR, 16-bit PNG/TIFF)."""
    import cv2

    if path.suffix.lower() == ".exr":
        return True
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    return image is not None and image.dtype != np.uint8


def _input_float(settings: RenderSettings, source: FrameSource) -> Callable[[int, np.ndarray], np.ndarray]:
    """Render frame index, decoded uint8 frame -> the input frame as float: re-read from its file for
    image sequences (full depth, alpha kept), else the decoded frame / 255."""
    if not source.info.is_sequence:
        return lambda _, decoded: decoded.astype(np.float32) / np.float32(255.0)
    paths = find_sequence(settings.input).paths[_skipped_frames(source):]
    return lambda index, _: read_image_float(paths[index])


def _confidence_writer(settings: RenderSettings, source: FrameSource,
                       processor: FrameProcessor) -> Callable[[int], None]:
    """``--write-confidence``: frame index -> the temporal filter's mask of that frame, written as a matte."""
    temporal = processor.temporal
    if temporal is None or not hasattr(temporal, "confidence"):
        raise UserInputError("--write-confidence needs the feed-forward temporal filter (not --no-temporal or "
                             "--method optimize)")
    info = source.info
    writer = ConfidenceWriter(confidence_pattern(settings.output), output_first_number(settings, source),
                              processor.output_size(info.width, info.height))

    last: list[torch.Tensor | None] = [None]

    def write(index: int) -> None:
        mask = temporal.confidence
        if mask is last[0]:  # the filter did not run on this frame (strength 0): nothing was held
            mask = None
        last[0] = temporal.confidence
        writer.write(index, None if mask is None else mask[0, 0].float().cpu().numpy())

    return write


def render_plan(settings: RenderSettings, source: FrameSource, processor: FrameProcessor) -> RenderPlan | None:
    """The per-frame plan of a render (controls, matte, float output), or None when every frame is painted
    alike and written as 8 bits (the render is then what it was before schedules existed).

    Any caller of :func:`render_segment` with the settings gets the same plan (local render, Ray workers).
    """
    from vidstyle.stylize.feedforward import StyleVectorComputer

    track = control_track(settings)
    float_output = _float_output(settings, source)
    if track is None and settings.controls.matte is None and not float_output and not settings.write_confidence:
        return None
    if track is not None and track.frames != source.count_frames():
        raise VidstyleError(f"the controls have {track.frames} frames, the render {source.count_frames()}")
    controls = None if track is None else track_controls(
        track, settings.processing.style.style,
        lambda image, scale: StyleVectorComputer(processor.device, scale)(image))
    matte = None
    if settings.controls.matte is not None:
        mattes = MatteSource(settings.controls.matte)
        matte = MatteCompositor(mattes.matte, _input_float(settings, source))
    confidence = _confidence_writer(settings, source, processor) if settings.write_confidence else None
    return RenderPlan(controls, matte, float_output, confidence)
