"""--method optimize with Ruder's temporal loss runs end to end and flickers less than its own per-frame run."""

from __future__ import annotations

import cv2
import pytest

from vidstyle.cli.app import main
from vidstyle.metrics import MEASURE_WIDTH, read_frames, warp_errors
from vidstyle.synth import synth_frames, write_clip


@pytest.mark.slow
def test_optimize_temporal_beats_per_frame(tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", synth_frames(6, 96, 64), fps=24, audio_codec=None)
    painting = tmp_path / "painting.png"
    cv2.imwrite(str(painting), synth_frames(1, 96, 96, seed=7)[0][::-1, ::-1].copy())
    outputs = {}
    for name, extra in (("temporal", []), ("per_frame", ["--no-temporal"])):
        out = tmp_path / f"{name}.mkv"
        code = main(["run", str(clip), "-o", str(out), "--method", "optimize", "--style", str(painting),
                     "--iterations", "8", "--max-side", "96", "--codec", "ffv1", "--quiet"] + extra)
        assert code == 0
        outputs[name] = out
    inputs = read_frames(clip, None, MEASURE_WIDTH)
    temporal = warp_errors(inputs, read_frames(outputs["temporal"], None, MEASURE_WIDTH)).mean_output
    per_frame = warp_errors(inputs, read_frames(outputs["per_frame"], None, MEASURE_WIDTH)).mean_output
    assert temporal < per_frame
