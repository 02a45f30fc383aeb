"""--method optimize end to end: Ruder's temporal loss flickers less than its own per-frame run; the solve
starts from the frame unless --init feedforward starts it from the network's painting."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from vidstyle.cli.app import main
from vidstyle.metrics import MEASURE_WIDTH, read_frames, warp_errors
from vidstyle.synth import synth_frames, write_clip


@pytest.fixture
def painting(tmp_path):
    path = tmp_path / "painting.png"
    cv2.imwrite(str(path), synth_frames(1, 96, 96, seed=7)[0][::-1, ::-1].copy())
    return path


@pytest.mark.slow
def test_optimize_temporal_beats_per_frame(tmp_path, painting):
    clip = write_clip(tmp_path / "clip.mp4", synth_frames(6, 96, 64), fps=24, audio_codec=None)
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


def _mean_difference(a, b) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


def test_image_starts_from_the_network_when_told(tmp_path, painting):
    """One iteration barely moves the start: with --init feedforward it is the network's painting; by
    default the photo."""
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), synth_frames(1, 64, 48, seed=4)[0])
    outputs = {}
    optimize = ["--method", "optimize", "--iterations", "1"]
    for name, extra in (("network", []), ("feedforward", optimize + ["--init", "feedforward"]),
                        ("default", optimize)):
        outputs[name] = tmp_path / f"{name}.png"
        code = main(["image", str(photo), "-o", str(outputs[name]), "--style", str(painting), "--quiet"] + extra)
        assert code == 0
    images = {k: cv2.imread(str(v)) for k, v in outputs.items()}
    assert _mean_difference(images["feedforward"], images["network"]) < 3.0
    assert _mean_difference(images["default"], images["network"]) > 5 * _mean_difference(images["feedforward"],
                                                                                         images["network"])


def test_run_from_the_network_with_ruder(tmp_path, painting, capsys):
    clip = write_clip(tmp_path / "clip.mp4", synth_frames(3, 64, 48), fps=24, audio_codec=None)
    out = tmp_path / "out.mkv"
    code = main(["run", str(clip), "-o", str(out), "--method", "optimize", "--style", str(painting),
                 "--init", "feedforward", "--iterations", "2", "--codec", "ffv1", "--json", "--quiet"])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0 and summary["frames"] == 3 and summary["method"] == "optimize" and summary["temporal"]
    assert len(read_frames(out, None, 64)) == 3
