"""A render job from settings: the library behind ``vidstyle run`` (and the frame processor of webcam).

``RenderSettings`` holds what the user chose; :func:`vidstyle.build.build_processor` loads stylizer, flow
and temporal filter; :func:`run_job` checks the files, opens the work folder and runs the pipeline.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from vidstyle.build import BuiltProcessor, ProcessorSettings, build_processor
from vidstyle.compiling import KernelBuild
from vidstyle.compositing import MatteCompositor
from vidstyle.device import describe
from vidstyle.errors import UserInputError, VidstyleError
from vidstyle.io.images import read_image_float
from vidstyle.io.matte import ALPHA, ConfidenceWriter, MatteSource, confidence_pattern
from vidstyle.io.reader import FrameSource, VideoInfo, open_source, parse_time
from vidstyle.io.sequence import existing_frames, find_sequence, first_output_number, is_pattern
from vidstyle.io.writer import EncodeSettings, check_output_container
from vidstyle.pipeline import ProgressCallback, RenderResult, render
from vidstyle.processor import FrameProcessor
from vidstyle.resume import WorkDir, default_work_dir
from vidstyle.schedule.controls import RenderPlan, track_controls
from vidstyle.schedule.timeline import probe_timeline
from vidstyle.schedule.spec import ControlSpec
from vidstyle.schedule.track import ControlTrack, build_track

log = logging.getLogger("vidstyle")


@dataclass(frozen=True)
class RenderSettings:
    """A whole ``vidstyle run``: processing plus files, range and encoding."""

    input: Path
    output: Path
    processing: ProcessorSettings
    encode: EncodeSettings = field(default_factory=EncodeSettings)
    fps: float = 24.0
    start: str | None = None
    end: str | None = None
    max_frames: int | None = None
    overwrite: bool = False
    resume: bool = False
    work_dir: Path | None = None
    segment_frames: int = 240
    controls: ControlSpec = field(default_factory=ControlSpec)
    start_number: int | None = None
    write_confidence: bool = False


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_files(settings: RenderSettings) -> None:
    """Refuse what would lose the user's work, before any model is loaded."""
    inp, out = settings.input, settings.output
    if not is_pattern(inp) and not inp.exists():
        raise UserInputError(f"input not found: {inp}")
    if _same_file(inp, out) or (inp.resolve() == out.resolve()):
        raise UserInputError(f"the output {out} is the input: vidstyle never overwrites its input")
    if is_pattern(out):
        if Path(str(inp)).parent.resolve() == out.parent.resolve() and is_pattern(inp) and \
                Path(str(inp)).name == out.name:
            raise UserInputError("the output pattern is the input pattern: choose another folder or name")
        existing = existing_frames(out)
        if existing and not settings.overwrite:
            raise UserInputError(f"{len(existing)} frames matching {out} exist already; add --overwrite "
                                 "to replace them")
    else:
        check_output_container(out, settings.encode)
        if out.exists() and not settings.overwrite:
            raise UserInputError(f"the output {out} exists; add --overwrite to replace it")
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserInputError(f"cannot create the output folder {parent}: {exc.strerror}") from None
    if not os.access(parent, os.W_OK):
        raise UserInputError(f"the output folder {parent} is not writable")


def _input_identity(path: Path) -> str:
    """Name, size and modification time: enough to notice that the input changed under a resume."""
    try:
        st = path.stat()
        return f"{path.resolve()}:{st.st_size}:{int(st.st_mtime)}"
    except OSError:
        return str(path.resolve())


def fingerprint(settings: RenderSettings, device: str) -> dict:
    """What must match for ``--resume`` to continue a render (settings that change the pixels);
    ``device``: the device type ("cpu", "cuda") or, for a distributed render, the one asked for.
    Schedules, reactions and the matte count, with a digest of every per-frame curve."""
    data = asdict(settings)
    for key in ("overwrite", "resume", "work_dir", "output", "start_number"):
        data.pop(key)
    data["input"] = _input_identity(settings.input)
    data["device"] = device
    track = control_track(settings)
    data["controls"] = track.fingerprint() if track is not None else settings.controls.fingerprint()
    if settings.controls.matte is not None and settings.controls.matte != ALPHA:
        data["matte_files"] = [_input_identity(p) for p in find_sequence(settings.controls.matte).paths]
    return {k: (str(v) if isinstance(v, (Path, dict)) else v) for k, v in sorted(data.items())}


def open_render_source(settings: RenderSettings) -> FrameSource:
    return open_source(settings.input, fps=settings.fps, start=parse_time(settings.start),
                       end=parse_time(settings.end), max_frames=settings.max_frames)


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


ProcessorFactory = Callable[[ProcessorSettings], BuiltProcessor]


def load_processor(settings: ProcessorSettings, info: VideoInfo, frames: int | None = None,
                   build: ProcessorFactory = build_processor) -> BuiltProcessor:
    """Build the processor and, when compiled, build its kernels for frames of ``info``'s size, but only
    where ``frames`` (None: unknown) repay building or loading them; else the network runs eagerly."""
    built = build(settings)
    if built.compiled:
        w, h = built.processor.processing_size(info.width, info.height)
        kernels = KernelBuild(built.processor.stylizer.name, w, h, built.precision, built.device.type)
        pays, why = kernels.pays(frames)
        log.info(why)
        if pays:
            built.processor.prepare(info.width, info.height)
            if built.compiled:  # not when compiling failed (no C++ compiler): nothing was cached
                kernels.remember()
        else:
            built.processor.stylizer.accelerate(compile=False, precision=built.precision)
    return built


def describe_processor(built: BuiltProcessor) -> dict:
    """The processor's keys of the ``--json`` object."""
    return {"method": built.method, "flow": built.flow_name, "device": describe(built.device),
            "precision": built.precision, "compiled": built.compiled}


def render_summary(settings: RenderSettings, result: RenderResult, processor: dict) -> dict:
    """The ``--json`` object of CONTRACT.md (plus a few extra keys); ``processor`` from
    :func:`describe_processor`."""
    r = result
    return {"input": str(settings.input), "output": str(settings.output), "frames": r.frames,
            "seconds": round(r.seconds, 3), "fps": round(r.fps, 3), "method": processor["method"],
            "flow": processor["flow"], "device": processor["device"], "style": style_label(settings),
            "temporal": settings.processing.temporal, "precision": processor["precision"],
            "compiled": processor["compiled"], "resumed_frames": r.resumed_frames,
            "audio_streams_copied": r.audio_copied, "audio_streams_transcoded": r.audio_transcoded,
            **controls_summary(settings.controls)}


def style_label(settings: RenderSettings) -> str:
    """``--json``'s ``"style"``: the style as given (a schedule or ``--style-per-shot`` included)."""
    controls = settings.controls
    return controls.style_per_shot or controls.style or settings.processing.style.label


def controls_summary(controls: ControlSpec) -> dict:
    """``run --json``'s keys for schedules and audio reactions (CONTRACT.md), present when used."""
    out: dict[str, object] = {}
    if scheduled := controls.scheduled():
        out["schedules"] = scheduled
    if reacts := controls.reacts():
        out["audio_react"] = [r.describe() for r in reacts]
    if controls.matte is not None:
        out["matte"] = controls.matte
    return out


@dataclass(frozen=True)
class JobResult:
    result: RenderResult
    built: BuiltProcessor

    def summary(self, settings: RenderSettings) -> dict:
        """The ``--json`` object of CONTRACT.md (plus a few extra keys)."""
        return render_summary(settings, self.result, describe_processor(self.built))


def prepare_output(settings: RenderSettings) -> None:
    """With ``--overwrite``, remove the frames or folder an earlier render left at the output."""
    if is_pattern(settings.output) and settings.overwrite:
        for f in existing_frames(settings.output):
            f.unlink()
    elif settings.overwrite and settings.output.is_dir():
        shutil.rmtree(settings.output)


def check_segment_frames(settings: RenderSettings) -> None:
    if settings.segment_frames < 1:
        raise UserInputError(f"--segment-frames must be at least 1, got {settings.segment_frames}")


def run_job(settings: RenderSettings, progress: ProgressCallback | None = None) -> JobResult:
    """Check files, load models, render (resuming finished segments with ``resume``)."""
    check_segment_frames(settings)
    check_controls(settings)
    check_files(settings)
    source = open_render_source(settings)
    first_number = output_first_number(settings, source)
    control_track(settings)  # schedules and audio analysis fail here, before any model loads
    frames = min(filter(None, (source.info.frame_count, settings.max_frames)), default=None)
    built = load_processor(settings.processing, source.info, frames)
    plan = render_plan(settings, source, built.processor)
    work_path = settings.work_dir or default_work_dir(settings.output)
    work = WorkDir(work_path, fingerprint(settings, built.device.type), resume=settings.resume,
                   overwrite=settings.overwrite)
    prepare_output(settings)
    result = render(source, built.processor, settings.output, work, encode=settings.encode,
                    segment_frames=settings.segment_frames, first_number=first_number,
                    progress=progress, plan=plan)
    return JobResult(result, built)
