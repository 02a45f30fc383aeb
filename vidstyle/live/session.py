"""A whole ``vidstyle webcam`` session from settings: checks, capture, models, outputs, the loop."""

from __future__ import annotations

import logging
import os
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import torch

from vidstyle.build import ProcessorSettings, build_processor
from vidstyle.device import default_max_side
from vidstyle.errors import UserInputError
from vidstyle.files import check_output
from vidstyle.io.camera import CameraLostError, open_capture
from vidstyle.io.writer import EncodeSettings, check_output_container
from vidstyle.live.adaptive import AdaptiveSize
from vidstyle.live.controls import KEY_HELP, LiveControls
from vidstyle.live.loop import LiveResult, run_live
from vidstyle.live.outputs import FrameSink, VideoRecorder, VirtualCamera
from vidstyle.live.window import Display, NullDisplay, OpenCVWindow

log = logging.getLogger("vidstyle")


def live_cpu_threads() -> int:
    """Torch threads for the live loop on a CPU: all cores but one, which is left to capture (decoding)
    and encoding. Measured on 2 busy cores (benchmarks/webcam.py): CIN-26 + temporal filter at 320 px
    took a median ~100 ms a frame with 1 thread and ~600 ms with 2 (load average 6), the two threads
    waiting for each other at every layer whenever another process holds a core."""
    return max(1, (os.cpu_count() or 1) - 1)


@dataclass(frozen=True)
class WebcamSettings:
    """A whole ``vidstyle webcam`` session. ``camera``: index or device path; ``source``: a file played
    as a camera (not both). ``target_fps`` 0 keeps the processing size fixed."""

    processing: ProcessorSettings
    camera: int | str | None = None
    source: Path | None = None
    size: tuple[int, int] | None = None
    target_fps: float = 15.0
    output: Path | None = None
    overwrite: bool = False
    virtual_cam: bool = False
    window: bool = True
    max_frames: int | None = None
    snapshot_dir: Path = Path(".")


def check_webcam_files(settings: WebcamSettings) -> None:
    """Refuse a bad ``--output`` before the camera or any model is opened."""
    out = settings.output
    if settings.max_frames is not None and settings.max_frames < 1:
        raise UserInputError(f"--max-frames must be at least 1, got {settings.max_frames}")
    if settings.target_fps < 0:
        raise UserInputError(f"--target-fps must not be negative, got {settings.target_fps}")
    if out is None:
        return
    check_output_container(out, EncodeSettings())
    check_output(settings.source, out, settings.overwrite)


def start_webcam(settings: WebcamSettings, *, display: Display | None = None) -> LiveResult:
    """Open the window, the capture and the outputs, load the models, run :func:`run_live`."""
    check_webcam_files(settings)
    with ExitStack() as stack:
        if display is None:
            display = stack.enter_context(OpenCVWindow()) if settings.window else NullDisplay()
        source = open_capture(camera=settings.camera, source=settings.source, size=settings.size)
        size = (source.info.width, source.info.height)
        rate = float(source.info.frame_rate) or 30.0
        sinks: list[FrameSink] = []
        if settings.virtual_cam:
            sinks.append(stack.enter_context(VirtualCamera(size, settings.target_fps or rate)))
        built = build_processor(settings.processing)
        if built.device.type == "cpu":
            torch.set_num_threads(live_cpu_threads())
        processor = built.processor
        upper = min(settings.processing.max_side or default_max_side(built.device), max(size))
        processor.set_max_side(upper)
        adaptive = AdaptiveSize(upper, target_fps=settings.target_fps, max_side=upper) \
            if settings.target_fps > 0 else None
        if settings.output is not None:
            sinks.append(stack.enter_context(VideoRecorder(settings.output, size, rate=rate)))
        controls = LiveControls(processor, settings.processing.style, snapshot_dir=settings.snapshot_dir)
        log.info("webcam %s %dx%d, style %s; %s", source.label, size[0], size[1], controls.style_label,
                 KEY_HELP if settings.window else "Ctrl-C stops")
        result = run_live(source, processor, controls, display=display, sinks=sinks,
                          max_frames=settings.max_frames, adaptive=adaptive)
    if isinstance(result.error, CameraLostError) and settings.output is not None:
        log.info("recording finalised: %s", settings.output)
    return result
