"""Where a distributed render cuts the input: at scene cuts first (no state carries across them), then
every ``chunk_frames`` frames, each such chunk warmed up on the frames before it and dissolved into
the previous chunk's continuation over its first frames (:mod:`.seams`)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from vidstyle.errors import UserInputError
from vidstyle.io.reader import FrameSource

THUMB_WIDTH = 64  # the cut pre-pass compares grey thumbnails this wide
CUT_MIN_CHANGE = 0.12  # mean absolute change (0..1) of a thumbnail that can be a cut...
CUT_RATIO = 4.0  # ...when also this many times the median change of the frames before


@dataclass(frozen=True)
class Chunk:
    """Frames [first, end) of one task, after painting ``warmup`` frames before ``first``.

    Within a shot the temporal filter remembers far back (fine strokes on flat areas are carried, never
    re-painted), so a warmed-up chunk still starts from a slightly different state than the render
    before it had. The seam is therefore dissolved: the chunk's first ``blend`` frames are mixed with
    the previous chunk's continuation over the same frames (its ``tail``, painted past its end), the
    weight moving linearly from the previous chunk to this one.
    """

    first: int
    end: int
    warmup: int
    blend: int = 0
    tail: int = 0

    @property
    def frames(self) -> int:
        return self.end - self.first


def plan_chunks(frame_count: int, cuts: list[int], chunk_frames: int, warmup: int) -> list[Chunk]:
    """Chunks covering [0, frame_count): a new one at every cut in ``cuts`` (frame indices starting a
    shot) and every ``chunk_frames`` frames within a shot. A chunk at a cut has no warm-up and no
    dissolve; others warm up on at most ``warmup`` frames of their own shot and dissolve over as many
    of their first frames (at most all of them), which the chunk before paints as its tail."""
    if chunk_frames < 1:
        raise UserInputError(f"--chunk-frames must be at least 1, got {chunk_frames}")
    if warmup < 0:
        raise UserInputError(f"--warmup-frames must be 0 or more, got {warmup}")
    shots = sorted({0, *(c for c in cuts if 0 < c < frame_count)}) + [frame_count]
    chunks: list[Chunk] = []
    for shot_start, shot_end in zip(shots, shots[1:]):
        for first in range(shot_start, shot_end, chunk_frames):
            end = min(first + chunk_frames, shot_end)
            lead = min(warmup, first - shot_start)
            blend = min(lead, end - first)
            if blend:
                chunks[-1] = replace(chunks[-1], tail=blend)
            chunks.append(Chunk(first, end, lead, blend))
    return chunks


def _thumbnail(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> small blurred grey float32 0..1."""
    h = max(1, round(image.shape[0] * THUMB_WIDTH / image.shape[1]))
    grey = cv2.cvtColor(cv2.resize(image, (THUMB_WIDTH, h), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    return cv2.GaussianBlur(grey, (3, 3), 0).astype(np.float32) / 255.0


def find_cuts(source: FrameSource, history: int = 12) -> list[int]:
    """Indices of frames that start a new shot: one cheap pass over low-resolution grey frames.

    A cut is a change far above both :data:`CUT_MIN_CHANGE` and the recent changes (a pan changes
    every frame a little; a cut changes one frame a lot).
    """
    cuts: list[int] = []
    changes: list[float] = []
    previous = None
    for frame in source.frames():
        thumb = _thumbnail(frame.image)
        if previous is not None:
            change = float(np.abs(thumb - previous).mean())
            recent = float(np.median(changes[-history:])) if changes else 0.0
            if change > CUT_MIN_CHANGE and change > CUT_RATIO * recent:
                cuts.append(frame.index)
            changes.append(change)
        previous = thumb
    return cuts
