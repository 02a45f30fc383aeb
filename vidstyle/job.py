"""A render job from settings: the library behind ``vidstyle run`` (and the frame processor of webcam).

``RenderSettings`` holds what the user chose; :func:`build_processor` loads stylizer, flow and temporal
filter; :func:`run_job` checks the files, opens the work folder and runs the pipeline.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from vidstyle.device import default_max_side, describe, resolve_device
from vidstyle.errors import RenderInterrupted, UserInputError, VidstyleError
from vidstyle.files import (
    check_frames_output, check_output, check_work_dir, ensure_output_folder, os_errors, refuse_input_as_output,
    render_bytes,
)
from vidstyle.io.reader import DamageReport, FrameSource, open_source, parse_time
from vidstyle.io.sequence import is_pattern
from vidstyle.io.writer import EncodeSettings, check_output_container
from vidstyle.pipeline import ProgressCallback, RenderResult, render
from vidstyle.processor import FrameProcessor
from vidstyle.resume import WorkDir, default_work_dir
from vidstyle.stylize.feedforward import NetworkStylizer
from vidstyle.stylize.registry import StyleRequest, build_stylizer

log = logging.getLogger("vidstyle")


@dataclass(frozen=True)
class ProcessorSettings:
    """Everything that decides the painted pixels (shared by run and webcam)."""

    style: StyleRequest
    device: str = "auto"
    flow: str = "auto"
    flow_scale: float = 1.0
    raft_weights: Path | None = None
    temporal: bool = True
    temporal_weight: float | None = None
    long_term: bool = False
    max_side: int | None = None
    strength: float = 1.0
    keep_processing_size: bool = False
    compile: bool = False
    precision: str = "auto"


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
    strict: bool = False  # any damage in the input is an error


@dataclass
class BuiltProcessor:
    processor: FrameProcessor
    device: torch.device
    flow_name: str
    method: str

    @property
    def compiled(self) -> bool:
        """Whether the network runs compiled (False again if compiling failed on the first frame)."""
        stylizer = self.processor.stylizer
        return isinstance(stylizer, NetworkStylizer) and stylizer.compiled

    @property
    def precision(self) -> str:
        stylizer = self.processor.stylizer
        return stylizer.precision if isinstance(stylizer, NetworkStylizer) else "fp32"


def build_processor(settings: ProcessorSettings) -> BuiltProcessor:
    """Load the stylizer, the flow estimator and the temporal filter for ``settings``."""
    device = resolve_device(settings.device)
    stylizer = build_stylizer(settings.style, device)
    if isinstance(stylizer, NetworkStylizer):
        stylizer.accelerate(compile=settings.compile, precision=settings.precision)
    elif settings.precision not in ("auto", "fp32"):
        raise UserInputError("--precision applies to the feed-forward networks, not to --method optimize")
    temporal = None
    flow_name = "none"
    if settings.temporal:
        from vidstyle.flow.factory import build_flow
        from vidstyle.temporal.longterm import LONG_TERM_FRAMES

        flow = build_flow(settings.flow, device, raft_weights=settings.raft_weights, scale=settings.flow_scale)
        flow_name = getattr(flow, "name", settings.flow)
        if settings.style.method == "optimize":
            from vidstyle.temporal.ruder import RuderTemporalFilter

            temporal = RuderTemporalFilter(flow, settings.temporal_weight,
                                           long_term=LONG_TERM_FRAMES if settings.long_term else ())
        else:
            from vidstyle.temporal.consistency import FlowTemporalFilter, TemporalSettings

            extra = {} if settings.temporal_weight is None else {"weight": settings.temporal_weight}
            if settings.long_term:
                extra["long_term"] = LONG_TERM_FRAMES
            temporal = FlowTemporalFilter(flow, TemporalSettings(**extra))
    max_side = settings.max_side or default_max_side(device)
    processor = FrameProcessor(stylizer, temporal, max_side=max_side, strength=settings.strength,
                               keep_processing_size=settings.keep_processing_size)
    return BuiltProcessor(processor, device, flow_name, settings.style.method)


def check_files(settings: RenderSettings) -> list[Path]:
    """Refuse what would lose the user's work, before any model is loaded; returns the existing frames
    of a pattern output that ``--overwrite`` replaces."""
    inp, out = settings.input, settings.output
    if not is_pattern(inp) and not inp.exists():
        raise UserInputError(f"input not found: {inp}")
    check_work_dir(settings.work_dir or default_work_dir(out))
    if is_pattern(out):
        refuse_input_as_output(inp, out)
        frames = check_frames_output(inp, out, settings.overwrite)
        ensure_output_folder(out.parent)
        return frames
    check_output_container(out, settings.encode)
    check_output(inp, out, settings.overwrite)
    return []


def _input_identity(path: Path) -> str:
    """Name, size and modification time: enough to notice that the input changed under a resume."""
    try:
        st = path.stat()
        return f"{path.resolve()}:{st.st_size}:{int(st.st_mtime)}"
    except OSError:
        return str(path.resolve())


def fingerprint(settings: RenderSettings, device: torch.device) -> dict:
    """What must match for ``--resume`` to continue a render (settings that change the pixels)."""
    data = asdict(settings)
    for key in ("overwrite", "resume", "work_dir", "output", "strict"):
        data.pop(key)
    data["input"] = _input_identity(settings.input)
    data["device"] = device.type
    return {k: (str(v) if isinstance(v, (Path, dict)) else v) for k, v in sorted(data.items())}


def open_render_source(settings: RenderSettings) -> FrameSource:
    return open_source(settings.input, fps=settings.fps, start=parse_time(settings.start),
                       end=parse_time(settings.end), max_frames=settings.max_frames, strict=settings.strict)


@dataclass(frozen=True)
class JobResult:
    result: RenderResult
    built: BuiltProcessor
    damage: DamageReport = field(default_factory=DamageReport)

    def summary(self, settings: RenderSettings) -> dict:
        """The ``--json`` object of CONTRACT.md (plus a few extra keys)."""
        r, b = self.result, self.built
        return {"input": str(settings.input), "output": str(settings.output), "frames": r.frames,
                "seconds": round(r.seconds, 3), "fps": round(r.fps, 3), "method": b.method, "flow": b.flow_name,
                "device": describe(b.device), "style": settings.processing.style.label,
                "temporal": settings.processing.temporal, "precision": b.precision, "compiled": b.compiled,
                "resumed_frames": r.resumed_frames, "audio_streams_copied": r.audio_copied,
                "audio_streams_transcoded": r.audio_transcoded, "damaged_packets": self.damage.packets,
                "frames_lost": self.damage.frames_lost}


def run_job(settings: RenderSettings, progress: ProgressCallback | None = None) -> JobResult:
    """Check files, load models, render (resuming finished segments with ``resume``).

    OS failures become one line saying what and where (exit 2). On any failure the work folder is
    removed when it holds nothing resumable, else kept and the error line says so.
    """
    if settings.segment_frames < 1:
        raise UserInputError(f"--segment-frames must be at least 1, got {settings.segment_frames}")
    replaced = check_files(settings)
    source = open_render_source(settings)
    built = build_processor(settings.processing)
    if built.compiled:
        w, h = built.processor.processing_size(source.info.width, source.info.height)
        log.info(f"compiling the network for {w}x{h} frames (once per size; later runs reuse the cache)")
        built.processor.prepare(source.info.width, source.info.height)
    work_path = settings.work_dir or default_work_dir(settings.output)
    need = render_bytes(source.info.width, source.info.height, settings.max_frames or source.info.frame_count,
                        settings.output)
    with os_errors("cannot write the work folder", work_path, need):
        work = WorkDir(work_path, fingerprint(settings, built.device), resume=settings.resume,
                       overwrite=settings.overwrite)
    first_number = source.info.first_number if source.info.is_sequence else 1
    try:
        with os_errors("the render failed at", settings.output, need):
            for f in replaced:  # frames of the output pattern, checked to be images (check_files)
                f.unlink()
            result = render(source, built.processor, settings.output, work, encode=settings.encode,
                            segment_frames=settings.segment_frames, first_number=first_number,
                            progress=progress)
    except VidstyleError as exc:
        kept = work.abandon()
        if isinstance(exc, RenderInterrupted) and not kept:
            raise RenderInterrupted("interrupted before the first segment was finished; nothing kept") from None
        if kept and str(work.path) not in str(exc):
            raise type(exc)(f"{exc}; {kept}") from exc
        raise
    except BaseException:
        work.abandon()
        raise
    damage = getattr(source, "damage", DamageReport())
    if damage.packets or damage.frames_lost:
        log.warning(f"warning: {settings.input} is damaged: {damage.packets} packets could not be read or "
                    f"decoded, {damage.frames_lost} frames lost; the render went on (--strict refuses damage)")
    return JobResult(result, built, damage)
