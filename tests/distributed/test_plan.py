"""Chunk planning (no Ray needed): chunks at scene cuts, then every N frames, warm-up within the shot."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from vidstyle.distributed.dissolve import mix
from vidstyle.distributed.plan import Chunk, find_cuts, plan_chunks
from vidstyle.errors import UserInputError
from vidstyle.io.reader import open_source
from vidstyle.synth import synth_frames, write_clip


def test_chunks_cover_the_input_and_start_at_cuts():
    chunks = plan_chunks(100, [30], chunk_frames=20, warmup=8)
    assert chunks == [Chunk(0, 20, 0, 0, 8), Chunk(20, 30, 8, 8, 0), Chunk(30, 50, 0, 0, 8), Chunk(50, 70, 8, 8, 8),
                      Chunk(70, 90, 8, 8, 8), Chunk(90, 100, 8, 8, 0)]
    assert sum(c.frames for c in chunks) == 100


def test_warmup_and_dissolve_stay_inside_the_shot():
    """The dissolve is as long as the warm-up, at most the whole chunk; the chunk before paints it as its tail."""
    assert plan_chunks(50, [25], chunk_frames=10, warmup=30)[:4] == [
        Chunk(0, 10, 0, 0, 10), Chunk(10, 20, 10, 10, 5), Chunk(20, 25, 20, 5, 0), Chunk(25, 35, 0, 0, 10)]


def test_cuts_outside_the_range_are_ignored_and_values_checked():
    assert plan_chunks(10, [0, 10, 99], chunk_frames=10, warmup=2) == [Chunk(0, 10, 0)]
    assert plan_chunks(10, [], chunk_frames=5, warmup=0) == [Chunk(0, 5, 0), Chunk(5, 10, 0)]  # cold: no dissolve
    with pytest.raises(UserInputError, match="--chunk-frames"):
        plan_chunks(10, [], chunk_frames=0, warmup=2)
    with pytest.raises(UserInputError, match="--warmup-frames"):
        plan_chunks(10, [], chunk_frames=5, warmup=-1)


def test_find_cuts_finds_the_hard_cut_and_not_the_pan(tmp_path):
    """Two shots (a landscape, then another in negative; each pans 2 px a frame): one cut, at frame 14."""
    frames = synth_frames(14, 128, 72, seed=1) + [255 - f for f in synth_frames(10, 128, 72, seed=2)]
    frames = [np.ascontiguousarray(f) for f in frames]
    clip = write_clip(tmp_path / "cut.mp4", frames, fps=24, audio_codec=None)
    assert find_cuts(open_source(clip)) == [14]


def test_the_cli_does_not_import_ray_without_the_option(tmp_path):
    code = "import sys, vidstyle.cli.app, vidstyle.cli.run; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=tmp_path).stdout  # the installed package, not the source tree
    assert out.strip() == "False"


def test_dissolve_moves_linearly_from_the_chunk_before_to_the_chunk_after():
    tail, head = np.zeros((3, 2, 2, 3), np.uint8), np.full((3, 2, 2, 3), 200, np.uint8)
    mixed = mix(tail, head)
    assert mixed.dtype == np.uint8 and [int(f[0, 0, 0]) for f in mixed] == [50, 100, 150]
    floats = mix(tail.astype(np.float32), head.astype(np.float32) / 200)
    assert floats.dtype == np.float32 and np.allclose(floats[:, 0, 0, 0], [0.25, 0.5, 0.75])
