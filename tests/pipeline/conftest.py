"""A cheap deterministic processor with temporal state, clips with short GOPs, and a decoder."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
import torch

from vidstyle.flow.opencv import DisFlow
from vidstyle.processor import FrameProcessor
from vidstyle.synth import synth_frames
from vidstyle.temporal.consistency import FlowTemporalFilter, TemporalSettings


class PosterizeStylizer:
    """Cheap deterministic 'painting' whose texture flickers with the frame content (for temporal state).

    ``dies_at``: raises Ctrl-C on that call (1-based), as a user pressing it would.
    """

    name = "posterize"
    device = torch.device("cpu")

    def __init__(self, dies_at: int | None = None) -> None:
        self.dies_at, self.seen = dies_at, 0
        self.threads: set[int] = set()  # torch's thread counts it painted with

    def stylize(self, content: torch.Tensor) -> torch.Tensor:
        self.seen += 1
        self.threads.add(torch.get_num_threads())
        if self.seen == self.dies_at:
            raise KeyboardInterrupt
        return (content * 4).round() / 4


@pytest.fixture
def posterize():
    """``posterize(long_term=(), dies_at=None, ahead=False)``: a FrameProcessor with the flow temporal
    filter; ``ahead``: it paints ahead (:meth:`FrameProcessor.paint_ahead`)."""

    def make(long_term: tuple[int, ...] = (), dies_at: int | None = None, ahead: bool = False) -> FrameProcessor:
        temporal = FlowTemporalFilter(DisFlow(), TemporalSettings(long_term=long_term))
        processor = FrameProcessor(PosterizeStylizer(dies_at), temporal, max_side=None)
        if ahead:
            processor.paint_ahead(1)
        return processor

    return make


def _decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


@pytest.fixture
def decode():
    """``decode(path)``: every frame of a video as (H, W, 3) uint8 RGB."""
    return _decode


@pytest.fixture(scope="session")
def gop_clip(tmp_path_factory) -> Path:
    """24 frames 128x80 H.264 with a keyframe every 4 frames and B-frames (no audio): seeks land near."""
    path = tmp_path_factory.mktemp("clips") / "gop4.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 128, 80, "yuv420p"
        stream.options = {"g": "4", "keyint_min": "4", "bf": "2", "sc_threshold": "0"}
        for image in synth_frames(24, 128, 80, seed=3):
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path
