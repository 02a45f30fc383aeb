"""A render job from settings: the library behind ``vidstyle run`` (and the frame processor of webcam).

``RenderSettings`` holds what the user chose; :func:`vidstyle.build.build_processor` loads stylizer, flow
and temporal filter; :mod:`vidstyle.render_plan` gives each frame its controls and output; :func:`run_job`
checks the files, opens the work folder and runs the pipeline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from vidstyle.build import BuiltProcessor, ProcessorSettings, build_processor
from vidstyle.compiling import KernelBuild
from vidstyle.device import describe
from vidstyle.errors import RenderInterrupted, UserInputError, VidstyleError
from vidstyle.files import (
    check_frames_output, check_output, check_work_dir, ensure_output_folder, os_errors, refuse_input_as_output,
    render_bytes,
)
from vidstyle.io.matte import ALPHA
from vidstyle.io.damage import DamageReport
from vidstyle.io.reader import FrameSource, VideoInfo, open_source, parse_time
from vidstyle.io.sequence import find_sequence, is_pattern
from vidstyle.io.writer import EncodeSettings, check_output_container
from vidstyle.pipeline import ProgressCallback, RenderResult, render
from vidstyle.processor import FrameProcessor
from vidstyle.render_plan import check_controls, control_track, output_first_number, render_plan
from vidstyle.resume import WorkDir, default_work_dir
from vidstyle.schedule.spec import ControlSpec

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
    strict: bool = False  # any damage in the input is an error


def check_files(settings: RenderSettings) -> list[Path]:
    """Refuse what would lose the user's work, before any model is loaded; returns the existing frames
    of a pattern output that ``--overwrite`` replaces (:func:`replace_frames`)."""
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


def fingerprint(settings: RenderSettings, device: str) -> dict:
    """What must match for ``--resume`` to continue a render (settings that change the pixels);
    ``device``: the device type ("cpu", "cuda") or, for a distributed render, the one asked for.
    Schedules, reactions and the matte count, with a digest of every per-frame curve."""
    data = asdict(settings)
    for key in ("overwrite", "resume", "work_dir", "output", "start_number", "strict"):
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
                       end=parse_time(settings.end), max_frames=settings.max_frames, strict=settings.strict)


ProcessorFactory = Callable[[ProcessorSettings], BuiltProcessor]


def load_processor(settings: ProcessorSettings, info: VideoInfo, frames: int | None = None,
                   build: ProcessorFactory = build_processor) -> BuiltProcessor:
    """Build the processor and, when compiled, build its kernels for frames of ``info``'s size, but only
    where ``frames`` (None: unknown) repay building or loading them, or ``settings.build_kernels`` asks
    for them anyway (for later runs of the size); else the network runs eagerly."""
    built = build(settings)
    paint_ahead(built.processor, built.device, built.method, settings.temporal)
    if built.compiled:
        w, h = built.processor.processing_size(info.width, info.height)
        stylizer = built.processor.stylizer
        with built.processor.stage_threads():  # the kernels the frames will run
            package = stylizer.kernel_package(w, h)
            kernels = KernelBuild(stylizer.name, w, h, built.precision, built.device.type, package)
            if settings.build_kernels:
                pays, why = True, f"building the network's kernels for {w}x{h} frames, as asked (--build-kernels)"
            else:
                pays, why = kernels.pays(frames)
            log.info(why)
            if pays:
                built.processor.prepare(info.width, info.height)
            else:
                built.processor.stylizer.accelerate(compile=False, precision=built.precision)
    return built


def paint_ahead(processor: FrameProcessor, device: torch.device, method: str, temporal: bool) -> bool:
    """On a CPU with two threads or more, a feed-forward render (``method``) with the temporal filter
    paints frame t+1 in a thread of its own while frame t's temporal step runs, half of torch's threads
    each (the network's kernels are then built for that many; on one thread, for every frame size): on
    the 2-core Intel Xeon, compiled, 66-67 instead of 76-78 ms a frame (``benchmarks/paint_ahead.py``).
    The optimisation method, the GPU and a single thread keep one frame after the other. Returns
    whether it paints ahead."""
    threads = torch.get_num_threads()
    if device.type != "cpu" or method != "feedforward" or not temporal or threads < 2:
        return False
    share = threads // 2
    processor.paint_ahead(share)
    log.info(f"painting each frame beside the previous frame's temporal step ({share} thread{'s' * (share > 1)} each)")
    return True


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
    damage: DamageReport = field(default_factory=DamageReport)

    def summary(self, settings: RenderSettings) -> dict:
        """The ``--json`` object of CONTRACT.md (plus a few extra keys)."""
        return {**render_summary(settings, self.result, describe_processor(self.built)),
                "damaged_packets": self.damage.packets, "frames_lost": self.damage.frames_lost}


def replace_frames(frames: list[Path]) -> None:
    """With ``--overwrite``, remove the frames of the output pattern an earlier render left
    (:func:`check_files` checked that they are images of that pattern)."""
    for f in frames:
        f.unlink()


def check_segment_frames(settings: RenderSettings) -> None:
    if settings.segment_frames < 1:
        raise UserInputError(f"--segment-frames must be at least 1, got {settings.segment_frames}")


def open_work(settings: RenderSettings, info: VideoInfo, key: dict) -> tuple[WorkDir, int | None]:
    """The render's work folder (an OS failure as one line), and about how many bytes the render writes."""
    work_path = settings.work_dir or default_work_dir(settings.output)
    need = render_bytes(info.width, info.height, settings.max_frames or info.frame_count, settings.output)
    with os_errors("cannot write the work folder", work_path, need):
        work = WorkDir(work_path, key, resume=settings.resume, overwrite=settings.overwrite)
    return work, need


@contextmanager
def guarded(work: WorkDir, output: Path, need: int | None) -> Iterator[None]:
    """Run a render: an OS failure becomes one line (exit 2); on any failure the work folder is removed
    when it holds nothing resumable, else kept and the error line says so."""
    try:
        with os_errors("the render failed at", output, need):
            yield
    except VidstyleError as exc:
        kept = work.abandon()
        if isinstance(exc, RenderInterrupted) and not kept:
            raise RenderInterrupted("interrupted before the first segment was finished; nothing kept") from None
        if kept and "--resume" not in str(exc):  # not already said (an interrupted render says it)
            raise type(exc)(f"{exc}; {kept}") from exc
        raise
    except BaseException:
        work.abandon()
        raise


def run_job(settings: RenderSettings, progress: ProgressCallback | None = None) -> JobResult:
    """Check files, load models, render (resuming finished segments with ``resume``); see :func:`guarded`
    for failures. A damaged input is rendered past its damaged packets with a warning (``strict``: refused)."""
    check_segment_frames(settings)
    check_controls(settings)
    replaced = check_files(settings)
    source = open_render_source(settings)
    first_number = output_first_number(settings, source)
    control_track(settings)  # schedules and audio analysis fail here, before any model loads
    frames = min(filter(None, (source.info.frame_count, settings.max_frames)), default=None)
    built = load_processor(settings.processing, source.info, frames)
    plan = render_plan(settings, source, built.processor)
    work, need = open_work(settings, source.info, fingerprint(settings, built.device.type))
    with guarded(work, settings.output, need):
        replace_frames(replaced)
        result = render(source, built.processor, settings.output, work, encode=settings.encode,
                        segment_frames=settings.segment_frames, first_number=first_number,
                        progress=progress, plan=plan)
    damage = getattr(source, "damage", DamageReport())
    if damage.packets or damage.frames_lost:
        log.warning(f"warning: {settings.input} is damaged: {damage.packets} packets could not be read or "
                    f"decoded, {damage.frames_lost} frames lost; the render went on (--strict refuses damage)")
    return JobResult(result, built, damage)
