"""Fixtures for every test: devices, the shared real data (skipped when absent), generated clips."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from vidstyle.synth import synth_frames, write_clip

# The public test data sits beside the repository (../shared/data); VIDSTYLE_SHARED_DATA overrides it.
SHARED_DATA = Path(
    os.environ.get("VIDSTYLE_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
)

torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture(
    params=[
        "cpu",
        pytest.param(
            "cuda",
            marks=[pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")],
        ),
    ]
)
def device(request) -> torch.device:
    return torch.device(request.param)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; tests that need it skip when it is not here."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (set VIDSTYLE_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def shared_path(shared_data: Path):
    """``shared_path("videos/chaplin.mp4")``: the file, or skip the test when it is not there."""

    def find(relative: str) -> Path:
        path = shared_data / relative
        if not path.exists():
            pytest.skip(f"{path} is not in the shared data")
        return path

    return find


@pytest.fixture(scope="session")
def clip16(tmp_path_factory) -> Path:
    """A 16-frame 160x96 H.264 + AAC clip at 24 fps, written with PyAV."""
    path = tmp_path_factory.mktemp("clips") / "clip16.mp4"
    return write_clip(path, synth_frames(16, 160, 96), fps=24)
