"""Seams dissolved, not cut: each chunk's first ``blend`` frames are mixed with the previous chunk's
continuation over the same frames (:class:`vidstyle.distributed.plan.Chunk`).

A task keeps the frames it paints over a dissolve raw in the work folder (its head, and the tail it
paints past its end, each one ``.npz`` named by the dissolve's first frame) and writes segments only for
the frames that are its alone. Once every task is done, the driver mixes each head with the tail of the
same frames and writes the dissolve as an ordinary segment; a dissolve written is what ``--resume``
finds done.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from vidstyle.distributed.plan import Chunk
from vidstyle.errors import VidstyleError
from vidstyle.io.atomic import atomic_output
from vidstyle.pipeline.sink import SegmentSink
from vidstyle.pipeline.stages import FrameMessage
from vidstyle.resume import WorkDir


def _painted_path(work: WorkDir, first: int, part: str) -> Path:
    """``part``: "head" (the chunk starting at ``first``) or "tail" (the chunk ending there)."""
    return work.path / f"dissolve_{first:09d}_{part}.npz"


def _dissolve_done(work: WorkDir, first: int) -> bool:
    return any(s.first_frame == first for s in work.segments)


def _has_painted(work: WorkDir, first: int, part: str) -> bool:
    return _dissolve_done(work, first) or _painted_path(work, first, part).exists()


def chunk_finished(work: WorkDir, chunk: Chunk) -> bool:
    """Whether ``chunk``'s task has nothing left to do: its own segments, its head and its tail are kept
    (or the dissolves they served are written)."""
    own = work.contiguous_end(chunk.first + chunk.blend) >= chunk.end
    head = not chunk.blend or _has_painted(work, chunk.first, "head")
    tail = not chunk.tail or _has_painted(work, chunk.end, "tail")
    return own and head and tail


def _save_painted(work: WorkDir, first: int, part: str, messages: list[FrameMessage]) -> None:
    with atomic_output(_painted_path(work, first, part)) as tmp, tmp.open("wb") as f:
        np.savez(f, images=np.stack([m.image for m in messages]), pts=np.array([m.pts for m in messages]))


class ChunkSink:
    """What a task writes: frames [first + blend, end) into ``inner``'s segments (the last one closing at
    ``end``), and the frames of its head and tail kept raw for the driver's dissolves."""

    def __init__(self, inner: SegmentSink, chunk: Chunk) -> None:
        self.inner, self.chunk = inner, chunk

    def is_seam(self, index: int) -> bool:
        return self.inner.is_seam(index) or index == self.chunk.end - 1

    def consume(self, messages: Iterator[FrameMessage]) -> None:
        chunk, work = self.chunk, self.inner.work
        head: list[FrameMessage] = []
        tail: list[FrameMessage] = []

        def own_frames() -> Iterator[FrameMessage]:
            for message in messages:
                if message.index < chunk.first + chunk.blend:
                    head.append(message)
                    if len(head) == chunk.blend:  # saved before any later segment is recorded
                        _save_painted(work, chunk.first, "head", head)
                elif message.index < chunk.end:
                    yield message
                else:
                    tail.append(message)

        self.inner.consume(own_frames())
        if tail:
            _save_painted(work, chunk.end, "tail", tail)


def mix(tail: np.ndarray, head: np.ndarray) -> np.ndarray:
    """(N, H, W, C) frames painted by the chunk before (``tail``) and the chunk after (``head``) ->
    the dissolve: frame i takes (i + 1) / (N + 1) of the head. uint8 in, uint8 out; float stays float."""
    n = len(head)
    weight = (np.arange(1, n + 1, dtype=np.float32) / (n + 1)).reshape(n, 1, 1, 1)
    mixed = tail.astype(np.float32) + weight * (head.astype(np.float32) - tail.astype(np.float32))
    if head.dtype == np.uint8:
        return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
    return mixed.astype(head.dtype)


def write_dissolves(chunks: list[Chunk], sink: SegmentSink, time_base: float) -> None:
    """Write every dissolve not yet written as a segment of ``sink``'s work folder, then drop its raw
    frames. Every task must be finished."""
    work = sink.work
    written = {s.first_frame for s in work.segments}  # read once: a film has hundreds of segments
    for chunk in chunks:
        if not chunk.blend or chunk.first in written:
            continue
        with np.load(_painted_path(work, chunk.first, "head")) as h, \
                np.load(_painted_path(work, chunk.first, "tail")) as t:
            images, pts, tail, tail_pts = h["images"], h["pts"], t["images"], t["pts"]
        if tail.shape != images.shape or not np.array_equal(tail_pts, pts):
            raise VidstyleError(f"the work folder {work.path} holds two chunks' frames for the dissolve at "
                                f"frame {chunk.first} that do not match; render again without --resume")
        mixed = mix(tail, images)
        messages = [FrameMessage(chunk.first + i, int(p), float(p) * time_base, image,
                                 state={} if i == len(mixed) - 1 else None)
                    for i, (p, image) in enumerate(zip(pts, mixed))]
        sink.consume(iter(messages))
        for part in ("head", "tail"):
            _painted_path(work, chunk.first, part).unlink()
