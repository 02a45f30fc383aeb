"""Chunked rendering on a local Ray (2 CPUs): frames, pts and audio as a local render; invisible seams
with the default warm-up; a killed task retried to the same output; --resume renders only what is missing."""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import torch

ray = pytest.importorskip("ray")

from vidstyle.distributed.dissolve import chunk_finished  # noqa: E402
from vidstyle.distributed.driver import PLAN_FILE, render_on_ray  # noqa: E402
from vidstyle.distributed.plan import Chunk  # noqa: E402
from vidstyle.distributed import DEFAULT_WARMUP_FRAMES  # noqa: E402
from vidstyle.distributed.seams import seam_ratios  # noqa: E402
from vidstyle.errors import RenderInterrupted, UserInputError  # noqa: E402
from vidstyle.flow.opencv import DisFlow  # noqa: E402
from vidstyle.io.writer import EncodeSettings  # noqa: E402
from vidstyle.job import BuiltProcessor, ProcessorSettings, RenderSettings, run_job  # noqa: E402
from vidstyle.processor import FrameProcessor  # noqa: E402
from vidstyle.resume import WorkDir  # noqa: E402
from vidstyle.stylize.registry import StyleRequest  # noqa: E402
from vidstyle.synth import synth_frames, write_clip  # noqa: E402
from vidstyle.temporal.consistency import FlowTemporalFilter, TemporalSettings  # noqa: E402

ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import this test module

STARRY = ProcessorSettings(style=StyleRequest(style="starry_night"), compile=False)
LOSSLESS = EncodeSettings(codec="ffv1")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def clip64(tmp_path_factory) -> Path:
    """64 frames 160x96 at 24 fps with AAC audio."""
    return write_clip(tmp_path_factory.mktemp("ray") / "clip64.mp4", synth_frames(64, 160, 96), fps=24)


def _video_pts(path: Path) -> list[int]:
    with av.open(str(path)) as c:
        return [round(f.time * 24) for f in c.decode(video=0)]


def _audio_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as c:
        return [bytes(p) for p in c.demux(audio=0) if p.size]


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


class _Posterize:
    """Cheap deterministic stylizer; ``exit_at``: the worker process dies (os._exit) on that frame;
    ``delay``: seconds each frame takes (a slower render, so the driver can be stopped half-way)."""

    name = "posterize"
    device = torch.device("cpu")

    def __init__(self, exit_at: int | None = None, delay: float = 0.0) -> None:
        self.exit_at, self.delay, self.seen = exit_at, delay, 0

    def stylize(self, content: torch.Tensor) -> torch.Tensor:
        self.seen += 1
        if self.seen == self.exit_at:
            os._exit(1)
        time.sleep(self.delay)
        return (content * 4).round() / 4


def _posterize(settings: ProcessorSettings, kill_marker: Path | None = None, delay: float = 0.0) -> BuiltProcessor:
    """A processor factory for the tasks; with ``kill_marker``, the first task to start dies mid-chunk."""
    exit_at = None
    if kill_marker is not None and not kill_marker.exists():
        kill_marker.touch()
        exit_at = 5
    temporal = FlowTemporalFilter(DisFlow(), TemporalSettings())
    return BuiltProcessor(FrameProcessor(_Posterize(exit_at, delay), temporal, max_side=None),
                          torch.device("cpu"), "dis", "posterize")


def _settings(clip: Path, out: Path, **kwargs) -> RenderSettings:
    return RenderSettings(input=clip, output=out, processing=STARRY, **({"overwrite": True} | kwargs))


@pytest.fixture(scope="module")
def chunked(local_ray, clip64, tmp_path_factory):
    """clip64 rendered on Ray in chunks of 32 frames (one seam, at frame 32) with the default warm-up."""
    out = tmp_path_factory.mktemp("ray-out") / "chunked.mp4"
    done = render_on_ray(_settings(clip64, out, segment_frames=16), chunk_frames=32, warmup=DEFAULT_WARMUP_FRAMES)
    return out, done


def test_chunked_render_keeps_frames_pts_and_audio(chunked, clip64, tmp_path):
    out, done = chunked
    assert (done.chunks, done.chunks_rendered, done.result.frames) == (2, 2, 64)
    assert 1 <= done.workers <= 2 and done.processor["method"] == "feedforward"
    local = tmp_path / "local.mp4"
    run_job(_settings(clip64, local))
    assert _video_pts(out) == _video_pts(clip64) == list(range(64))
    assert _audio_packets(out) == _audio_packets(local) and _audio_packets(out)
    assert not out.parent.joinpath(f".{out.name}.vidstyle-work").exists()


def test_seam_is_no_jump_with_the_default_warmup(chunked, clip64):
    """The seam, and every frame change of the dissolve after it, within 1.3x of the changes around."""
    out, _ = chunked
    [ratio], [dissolve] = seam_ratios(clip64, out, [32], windows=(1, DEFAULT_WARMUP_FRAMES))
    assert ratio <= 1.3 and dissolve <= 1.3


POSTERIZE_CHUNKS = {"chunk_frames": 4, "warmup": 3}  # 24 frames: 6 chunks


@pytest.fixture(scope="module")
def clip24(clip64) -> Path:
    return write_clip(clip64.with_name("clip24.mp4"), synth_frames(24, 160, 96), fps=24)


@pytest.fixture(scope="module")
def posterized(local_ray, clip24) -> list[np.ndarray]:
    """The frames of clip24 rendered on Ray with the posterize processor, nothing killed or stopped."""
    out = clip24.with_name("posterized.mkv")
    render_on_ray(_settings(clip24, out, encode=LOSSLESS, segment_frames=4), build=_posterize, **POSTERIZE_CHUNKS)
    return _frames(out)


def test_killed_task_is_retried_to_the_same_output(posterized, clip24, tmp_path):
    killed, marker = tmp_path / "killed.mkv", tmp_path / "killed-once"
    done = render_on_ray(_settings(clip24, killed, encode=LOSSLESS, segment_frames=4),
                         build=functools.partial(_posterize, kill_marker=marker), **POSTERIZE_CHUNKS)
    assert marker.exists() and done.result.frames == 24
    frames = _frames(killed)
    assert len(frames) == len(posterized) == 24
    assert all(np.array_equal(x, y) for x, y in zip(frames, posterized))


def test_resume_renders_only_the_missing_chunks(posterized, clip24, tmp_path):
    out = tmp_path / "out.mkv"
    work_path = tmp_path / ".out.mkv.vidstyle-work"

    def stop_driver(done: int, total: int | None) -> None:  # Ctrl-C once a chunk is finished (its tail: last)
        if any(work_path.glob("dissolve_*_tail.npz")):
            raise KeyboardInterrupt

    with pytest.raises(RenderInterrupted, match="--resume"):
        render_on_ray(_settings(clip24, out, encode=LOSSLESS, segment_frames=4),
                      build=functools.partial(_posterize, delay=0.25), progress=stop_driver, **POSTERIZE_CHUNKS)
    assert not out.exists()
    work = WorkDir(work_path, json.loads((work_path / "manifest.json").read_text())["fingerprint"], resume=True,
                   overwrite=False)
    chunks = [Chunk(**c) for c in json.loads((work_path / PLAN_FILE).read_text())]
    finished, resumed = sum(chunk_finished(work, c) for c in chunks), work.frames_done
    assert len(chunks) == 6 and 1 <= finished < 6

    done = render_on_ray(_settings(clip24, out, encode=LOSSLESS, segment_frames=4, resume=True, overwrite=False),
                         build=_posterize, **POSTERIZE_CHUNKS)
    assert (done.chunks, done.chunks_rendered, done.result.resumed_frames) == (6, 6 - finished, resumed)
    frames = _frames(out)
    assert len(frames) == 24 and all(np.array_equal(x, y) for x, y in zip(frames, posterized))


def test_worker_that_cannot_load_the_style_fails_with_one_line(local_ray, clip64, tmp_path):
    settings = RenderSettings(input=clip64, output=tmp_path / "o.mp4",
                              processing=ProcessorSettings(style=StyleRequest(style="no_such_painting")))
    with pytest.raises(UserInputError, match=r"^a Ray worker failed on frames 0-63: unknown style .no_such_painting") as err:
        render_on_ray(settings, chunk_frames=64, warmup=0)
    assert "\n" not in str(err.value)


@pytest.mark.slow
def test_optimize_method_renders_in_chunks_on_ray(local_ray, tmp_path):
    """--method optimize (Gatys/Ruder) on Ray: two chunks with a warm-up and a dissolve, every frame kept."""
    clip = write_clip(tmp_path / "clip.mp4", synth_frames(6, 96, 64), fps=24, audio_codec=None)
    painting = tmp_path / "painting.png"
    cv2.imwrite(str(painting), synth_frames(1, 96, 96, seed=7)[0][::-1, ::-1].copy())
    optimize = ProcessorSettings(style=StyleRequest(style=str(painting), method="optimize", iterations=2),
                                 max_side=96)
    out = tmp_path / "out.mp4"
    done = render_on_ray(RenderSettings(input=clip, output=out, processing=optimize), chunk_frames=3, warmup=1)
    assert (done.chunks, done.result.frames, done.processor["method"]) == (2, 6, "optimize")
    assert _video_pts(out) == list(range(6))
