"""The driver of a distributed render: plan the chunks, run one Ray task per missing chunk (Ray retries
killed ones), show progress across workers, write the seam dissolves, and assemble the output exactly
as a local render does."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from vidstyle.distributed.dissolve import chunk_finished, write_dissolves
from vidstyle.distributed.plan import Chunk, find_cuts, plan_chunks
from vidstyle.distributed.worker import read_processor_file, render_chunk
from vidstyle.errors import (
    DamagedInputError, RenderInterrupted, ResourceUnavailableError, StorageError, VidstyleError,
)
from vidstyle.files import describe_os_error
from vidstyle.io.atomic import atomic_output
from vidstyle.job import (
    ProcessorFactory, RenderSettings, build_processor, check_files, check_segment_frames, fingerprint, guarded,
    open_render_source, open_work, replace_frames,
)
from vidstyle.pipeline import ProgressCallback, RenderResult, make_sink
from vidstyle.render_plan import check_controls, output_first_number
from vidstyle.resume import WorkDir, default_work_dir

log = logging.getLogger("vidstyle")
PLAN_FILE = "chunks.json"
MAX_RETRIES = 3  # attempts after the first, for a task whose worker died


@dataclass(frozen=True)
class DistributedResult:
    """A finished distributed render: the render's figures, the processor the workers described,
    the number of chunks and how many were rendered now, and how many worker processes took part."""

    result: RenderResult
    processor: dict
    chunks: int
    chunks_rendered: int
    workers: int


class _Progress:
    """A Ray actor: frames written so far by each chunk's task (a retried task starts its count again)."""

    def __init__(self) -> None:
        self.done: dict[int, int] = {}

    def report(self, chunk_first: int, frames: int) -> None:
        self.done[chunk_first] = frames

    def total(self) -> int:
        return sum(self.done.values())


def _chunk_task(settings: RenderSettings, chunk: Chunk, work_path: Path, fingerprint: dict,
                build: ProcessorFactory, progress) -> dict:
    """The body of a Ray task (module level, so workers import it rather than unpickle it)."""
    return render_chunk(settings, chunk, work_path, fingerprint, build=build,
                        progress=lambda first, frames: progress.report.remote(first, frames))


def connect(address: str) -> None:
    """Join the Ray cluster at ``address``; ``auto``: the running one, else start one on this machine."""
    import ray

    if ray.is_initialized():
        return
    options = {"log_to_driver": False, "logging_level": logging.WARNING, "include_dashboard": False}
    try:
        ray.init(address=address, **options)
    except ConnectionError as exc:
        if address != "auto":
            raise ResourceUnavailableError(f"no Ray cluster at {address}: {exc}") from None
        log.info("no running Ray cluster: starting one on this machine")
        ray.init(num_cpus=os.cpu_count(), **options)


def _plan(work: WorkDir, settings: RenderSettings, chunk_frames: int, warmup: int) -> list[Chunk]:
    """The chunks of this render, planned once (the cut pre-pass reads the whole input) and kept."""
    path = work.path / PLAN_FILE
    if path.exists():
        return [Chunk(**c) for c in json.loads(path.read_text())]
    source = open_render_source(settings)
    chunks = plan_chunks(source.count_frames(), find_cuts(source), chunk_frames, warmup)
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps([asdict(c) for c in chunks]))
    return chunks


@contextmanager
def _undamaged(settings: RenderSettings) -> Iterator[None]:
    """Refuse a damaged input (the render's sources are ``strict``) with what to do instead."""
    try:
        yield
    except DamagedInputError:
        raise DamagedInputError(f"{settings.input} is damaged; --ray renders need an undamaged input (frames "
                                "lost to damage would shift the chunks): render it without --ray, which "
                                "skips damaged packets") from None


def _absolute(settings: RenderSettings) -> RenderSettings:
    """Paths as the workers must see them (their working folder is not the driver's)."""
    return replace(settings, input=settings.input.absolute(), output=settings.output.absolute(),
                   work_dir=(settings.work_dir or default_work_dir(settings.output)).absolute())


def render_on_ray(settings: RenderSettings, address: str = "auto", *, chunk_frames: int, warmup: int,
                  progress: ProgressCallback | None = None,
                  build: ProcessorFactory = build_processor) -> DistributedResult:
    """Render ``settings`` on Ray: one task per chunk of ``chunk_frames`` (cut at scene cuts), each
    warmed up on ``warmup`` frames before it; ``--resume`` renders only the chunks not finished."""
    check_segment_frames(settings)
    check_controls(settings)
    replaced = check_files(settings)
    # chunks are frame ranges found by seeking; frames lost to damage would shift them: refuse damage
    settings = replace(_absolute(settings), strict=True)
    plan_chunks(1, [], chunk_frames, warmup)  # checks the values before any work
    key = fingerprint(settings, settings.processing.device) | {"chunk_frames": chunk_frames, "warmup": warmup,
                                                             "seams": "dissolve"}
    with _undamaged(settings):
        source = open_render_source(settings)
    work, need = open_work(settings, source.info, key)
    with guarded(work, settings.output, need), _undamaged(settings):
        replace_frames(replaced)
        chunks = _plan(work, settings, chunk_frames, warmup)
        total = source.count_frames()
        resumed = work.frames_done
        missing = [c for c in chunks if not chunk_finished(work, c)]
        if missing:
            connect(address)
        start = time.perf_counter()
        results = _run_tasks(missing, settings, work, key, build, progress, resumed, total) if missing else []
        processor = read_processor_file(work)
        info = source.info
        sink = make_sink(info, tuple(processor.pop("size")), settings.output, work, settings.encode,
                         settings.segment_frames)
        write_dissolves(chunks, sink, float(info.time_base))
        if work.contiguous_end() < total:
            raise VidstyleError(f"the work folder {work.path} misses frames from {work.contiguous_end()} on")
        first_number = output_first_number(settings, source)
        report = sink.assemble(settings.output, first_time=source.first_time or 0.0, first_number=first_number)
    result = RenderResult(output=settings.output, frames=work.frames_done, seconds=time.perf_counter() - start,
                          resumed_frames=resumed, audio_copied=report.audio_copied if report else 0,
                          audio_transcoded=report.audio_transcoded if report else 0)
    work.remove()
    return DistributedResult(result, processor, len(chunks), len(missing), len({r["worker"] for r in results}))


def _run_tasks(chunks: list[Chunk], settings: RenderSettings, work: WorkDir, key: dict, build: ProcessorFactory,
               progress: ProgressCallback | None, resumed: int, total: int) -> list[dict]:
    """One Ray task per chunk; waits for all, reporting frames done across workers."""
    import ray

    counter = ray.remote(num_cpus=0)(_Progress).remote()
    gpus = 1 if settings.processing.device.startswith("cuda") else 0
    task = ray.remote(_chunk_task).options(max_retries=MAX_RETRIES, num_cpus=1, num_gpus=gpus)
    pending = {task.remote(settings, c, work.path, key, build, counter): c for c in chunks}
    results = []
    asked, written = counter.total.remote(), 0  # the counter answers when it can; the driver never waits
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
            for ref in ready:
                chunk = pending.pop(ref)
                results.append(_result(ref, chunk))
            if ray.wait([asked], timeout=0)[0]:
                asked, written = counter.total.remote(), ray.get(asked)
            if progress is not None:
                progress(resumed + written, total)
    except KeyboardInterrupt:
        _cancel(pending)
        raise RenderInterrupted(
            f"interrupted after {work.frames_done} finished frames, kept in {work.path}; "
            "run the same command with --resume to render the missing chunks"
        ) from None
    except BaseException:
        _cancel(pending)
        raise
    return results


def _result(ref, chunk: Chunk) -> dict:
    """The task's result, or its error as one line: the worker's own when it is a vidstyle error."""
    import ray

    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        cause = exc.cause
        where = f"a Ray worker failed on frames {chunk.first}-{chunk.end - 1}"
        if isinstance(cause, VidstyleError):
            cause.args = (f"{where}: {cause}",)
            raise cause from None
        if isinstance(cause, OSError):  # a full disk or a read-only folder where the worker writes
            raise StorageError(f"{where}: {describe_os_error(cause, 'cannot write', Path(cause.filename or '.'))}"
                               ) from None
        raise VidstyleError(f"{where}: {type(cause).__name__}: {cause}") from None
    except ray.exceptions.RayError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise VidstyleError(f"frames {chunk.first}-{chunk.end - 1} failed after {MAX_RETRIES} retries: "
                            f"{first_line}") from None


def _cancel(pending: dict) -> None:
    import ray

    for ref in pending:
        ray.cancel(ref)  # Ctrl-C in the task: it drops its unfinished segment and its worker lives on
