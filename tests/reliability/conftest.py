"""Fixtures of the reliability tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidstyle.synth import synth_frames, write_clip


@pytest.fixture(scope="session")
def clip24(tmp_path_factory) -> Path:
    """24 frames of 64x48 at 12 fps, H.264 + AAC."""
    return write_clip(tmp_path_factory.mktemp("rel") / "clip24.mp4", synth_frames(24, 64, 48, seed=2), fps=12)
