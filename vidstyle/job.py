"""A render job from settings: the library behind ``vidstyle run`` (and the frame processor of webcam).

``RenderSettings`` holds what the user chose; :func:`vidstyle.build.build_processor` loads stylizer, flow
and temporal filter; :func:`run_job` checks the files, opens the work folder and runs the pipeline.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from vidstyle.build import BuiltProcessor, ProcessorSettings, build_processor
from vidstyle.device import describe
from vidstyle.errors import UserInputError
from vidstyle.io.reader import FrameSource, VideoInfo, open_source, parse_time
from vidstyle.io.sequence import existing_frames, is_pattern
from vidstyle.io.writer import EncodeSettings, check_output_container
from vidstyle.pipeline import ProgressCallback, RenderResult, render
from vidstyle.resume import WorkDir, default_work_dir

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
    ``device``: the device type ("cpu", "cuda") or, for a distributed render, the one asked for."""
    data = asdict(settings)
    for key in ("overwrite", "resume", "work_dir", "output"):
        data.pop(key)
    data["input"] = _input_identity(settings.input)
    data["device"] = device
    return {k: (str(v) if isinstance(v, (Path, dict)) else v) for k, v in sorted(data.items())}


def open_render_source(settings: RenderSettings) -> FrameSource:
    return open_source(settings.input, fps=settings.fps, start=parse_time(settings.start),
                       end=parse_time(settings.end), max_frames=settings.max_frames)


ProcessorFactory = Callable[[ProcessorSettings], BuiltProcessor]


def load_processor(settings: ProcessorSettings, info: VideoInfo,
                   build: ProcessorFactory = build_processor) -> BuiltProcessor:
    """Build the processor and, when compiled, build its kernels for frames of ``info``'s size."""
    built = build(settings)
    if built.compiled:
        w, h = built.processor.processing_size(info.width, info.height)
        log.info(f"compiling the network for {w}x{h} frames (once per size; later runs reuse the cache)")
        built.processor.prepare(info.width, info.height)
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
            "flow": processor["flow"], "device": processor["device"], "style": settings.processing.style.label,
            "temporal": settings.processing.temporal, "precision": processor["precision"],
            "compiled": processor["compiled"], "resumed_frames": r.resumed_frames,
            "audio_streams_copied": r.audio_copied, "audio_streams_transcoded": r.audio_transcoded}


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
    check_files(settings)
    source = open_render_source(settings)
    built = load_processor(settings.processing, source.info)
    work_path = settings.work_dir or default_work_dir(settings.output)
    work = WorkDir(work_path, fingerprint(settings, built.device.type), resume=settings.resume,
                   overwrite=settings.overwrite)
    prepare_output(settings)
    first_number = source.info.first_number if source.info.is_sequence else 1
    result = render(source, built.processor, settings.output, work, encode=settings.encode,
                    segment_frames=settings.segment_frames, first_number=first_number,
                    progress=progress)
    return JobResult(result, built)
