"""A render killed with SIGKILL resumes to the same frames; a failed render removes a work folder with
nothing to resume and keeps (and names) one with finished segments."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import cv2
import numpy as np

from vidstyle.synth import synth_frames, write_clip

from clitools import FAST, decoded, error_line, run_cli, summary

ARGS = [*FAST, "--segment-frames", "8", "--json"]


def test_sigkill_then_resume_equals_an_uninterrupted_render(tmp_path, capsys):
    clip = write_clip(tmp_path / "long.mp4", synth_frames(160, 64, 48, seed=4), fps=24)
    reference = tmp_path / "reference.mp4"
    code, _, err = run_cli(["run", clip, "-o", reference, *ARGS], capsys)
    assert code == 0, err
    out = tmp_path / "out.mp4"
    work = tmp_path / ".out.mp4.vidstyle-work"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "vidstyle.cli.app", "run", str(clip), "-o", str(out), *ARGS],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while proc.poll() is None and not (work / "segment_000000000.json").exists():
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the render ended before it could be killed"
    assert not out.exists()
    code, stdout, err = run_cli(["run", clip, "-o", out, *ARGS, "--resume"], capsys)
    assert code == 0, err
    assert 8 <= summary(stdout)["resumed_frames"] < 160
    (ref_pts, ref_frames), (pts, frames) = decoded(reference), decoded(out)
    assert pts == ref_pts and all(np.array_equal(a, b) for a, b in zip(frames, ref_frames))
    assert not work.exists()


def _sequence(folder, count: int, broken: int):
    folder.mkdir()
    for i, image in enumerate(synth_frames(count, 64, 48), start=1):
        cv2.imwrite(str(folder / f"f_{i:04d}.png"), image)
    (folder / f"f_{broken:04d}.png").write_bytes(b"\x89PNG\r\n\x1a\n cut short")
    return folder / "f_%04d.png"


def test_failure_before_any_segment_removes_the_work_folder(tmp_path, capsys):
    """Before, such failures left a hidden work folder holding only manifest.json."""
    pattern = _sequence(tmp_path / "in", 12, broken=3)
    (tmp_path / "out").mkdir()
    code, _, err = run_cli(["run", pattern, "-o", tmp_path / "out" / "painted.mp4", *ARGS], capsys)
    assert code == 2 and "cannot read image" in error_line(err) and "--resume" not in err
    assert list((tmp_path / "out").iterdir()) == []


def test_failure_after_a_segment_keeps_and_names_the_work_folder(tmp_path, capsys):
    pattern = _sequence(tmp_path / "in", 12, broken=11)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "painted.mp4"
    code, _, err = run_cli(["run", pattern, "-o", out, *ARGS], capsys)
    line = error_line(err)
    work = tmp_path / "out" / ".painted.mp4.vidstyle-work"
    assert code == 2 and "8 finished frames are kept in" in line and str(work) in line
    assert [p.name for p in (tmp_path / "out").iterdir()] == [work.name]
    cv2.imwrite(str(tmp_path / "in" / "f_0011.png"), synth_frames(12, 64, 48)[10])
    code, stdout, err = run_cli(["run", pattern, "-o", out, *ARGS, "--resume"], capsys)
    assert code == 0, err
    assert summary(stdout)["resumed_frames"] == 8 and summary(stdout)["frames"] == 12
