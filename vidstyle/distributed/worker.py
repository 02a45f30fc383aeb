"""One chunk of a distributed render, as a Ray task runs it (this module does not import Ray).

The task opens the input itself (by path: every worker must reach it), loads the processor, and
renders its chunk with :func:`vidstyle.pipeline.render_segment` into the shared work folder, segments
named by their first frame, and the frames of its seam dissolves kept raw (:mod:`.dissolve`). Segments
a killed attempt finished are kept: a retry continues after them from their saved state, so the chunk
comes out the same.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from pathlib import Path

from vidstyle.distributed.dissolve import ChunkSink, chunk_finished
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
    """Render ``chunk`` (its warm-up, its frames, its tail) into the work folder; returns {"frames":
    frames painted now, warm-up and tail included, "worker": host:pid}."""
    work = WorkDir(work_path, fingerprint, resume=True, overwrite=False)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    if chunk_finished(work, chunk):
        return {"frames": 0, "worker": worker}
    own_first = chunk.first + chunk.blend
    start = work.contiguous_end(own_first)
    if start > own_first:  # a killed attempt finished segments (its head is kept before them): continue
        begin, state, warmup = min(start, chunk.end), work.state_before(min(start, chunk.end)), 0
    else:
        begin, state, warmup = chunk.first, {}, chunk.warmup
    source = open_render_source(settings)
    info = source.info
    end = chunk.end + chunk.tail
    built = load_processor(settings.processing, info, end - begin + warmup, build)
    size = built.processor.output_size(info.width, info.height)
    with atomic_output(work.path / PROCESSOR_FILE) as tmp:
        tmp.write_text(json.dumps({"size": size, **describe_processor(built)}))
    sink = ChunkSink(make_sink(info, size, settings.output, work, settings.encode, settings.segment_frames), chunk)
    on_frame = None if progress is None else (
        lambda m: progress(chunk.first, min(m.index + 1, chunk.end) - chunk.first))
    render_segment(source, (begin, end), state, sink, processor=built.processor, warmup=warmup,
                   on_frame=on_frame, plan=render_plan(settings, source, built.processor))
    return {"frames": end - begin + warmup, "worker": worker}


def read_processor_file(work: WorkDir) -> dict:
    """What the workers wrote about their processor: {"size": [w, h], "method", "flow", ...}."""
    return json.loads((work.path / PROCESSOR_FILE).read_text())
