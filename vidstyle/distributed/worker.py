"""One chunk of a distributed render, as a Ray task runs it (this module does not import Ray).

The task opens the input itself (by path: every worker must reach it), loads the processor, and
renders its chunk with :func:`vidstyle.pipeline.render_segment` into the shared work folder, segments
named by their first frame. Segments a killed attempt finished are kept: a retry continues after them
from their saved state, so the chunk comes out the same.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from pathlib import Path

from vidstyle.distributed.plan import Chunk
from vidstyle.io.atomic import atomic_output
from vidstyle.job import ProcessorFactory, RenderSettings, build_processor, describe_processor, load_processor
from vidstyle.job import open_render_source
from vidstyle.pipeline import make_sink, render_segment
from vidstyle.render_plan import render_plan
from vidstyle.resume import WorkDir

PROCESSOR_FILE = "processor.json"  # output frame size and processor description, for the driver

# (chunk's first frame, frames of the chunk written so far)
ChunkProgress = Callable[[int, int], None]


def render_chunk(settings: RenderSettings, chunk: Chunk, work_path: Path, fingerprint: dict, *,
                 build: ProcessorFactory = build_processor, progress: ChunkProgress | None = None) -> dict:
    """Render ``chunk`` into the work folder; returns {"frames": frames rendered now, "worker": host:pid}."""
    work = WorkDir(work_path, fingerprint, resume=True, overwrite=False)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    start = work.contiguous_end(chunk.first)
    if start >= chunk.end:
        return {"frames": 0, "worker": worker}
    source = open_render_source(settings)
    info = source.info
    state, warmup = (work.state_before(start), 0) if start > chunk.first else ({}, chunk.warmup)
    built = load_processor(settings.processing, info, chunk.end - start + warmup, build)
    size = built.processor.output_size(info.width, info.height)
    with atomic_output(work.path / PROCESSOR_FILE) as tmp:
        tmp.write_text(json.dumps({"size": size, **describe_processor(built)}))
    sink = make_sink(info, size, settings.output, work, settings.encode, settings.segment_frames)
    on_frame = None if progress is None else (lambda m: progress(chunk.first, m.index + 1 - chunk.first))
    render_segment(source, (start, chunk.end), state, sink, processor=built.processor, warmup=warmup,
                   on_frame=on_frame, plan=render_plan(settings, source, built.processor))
    return {"frames": chunk.end - start, "worker": worker}


def read_processor_file(work: WorkDir) -> dict:
    """What the workers wrote about their processor: {"size": [w, h], "method", "flow", ...}."""
    return json.loads((work.path / PROCESSOR_FILE).read_text())
