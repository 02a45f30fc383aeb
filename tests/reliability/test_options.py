"""Every numeric option is range-checked: one clear line naming the option, exit 2, nothing done.
Before, --temporal-weight -5 was accepted and rendered."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from clitools import FAST, error_line, run_cli

RUN_BAD = [
    ("--temporal-weight", "-5"), ("--temporal-weight", "nan"), ("--max-side", "0"), ("--max-side", "-640"),
    ("--fps", "0"), ("--fps", "-24"), ("--fps", "inf"), ("--crf", "-1"), ("--crf", "52"), ("--strength", "1.5"),
    ("--strength", "-0.1"), ("--segment-frames", "0"), ("--iterations", "0"), ("--style-scale", "0"),
    ("--style-scale", "-2"), ("--flow-scale", "0"), ("--flow-scale", "2"), ("--max-frames", "0"),
    ("--max-frames", "-3"),
]


@pytest.mark.parametrize(("option", "value"), RUN_BAD)
def test_run_refuses_out_of_range(clip24, tmp_path, capsys, option, value):
    out = tmp_path / "out.mp4"
    code, _, err = run_cli(["run", clip24, "-o", out, *FAST, option, value], capsys)
    assert code == 2
    assert option in error_line(err)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("option", "value"), [("--max-side", "1"), ("--strength", "2"), ("--style-scale", "0"),
                                               ("--iterations", "-1")])
def test_image_refuses_out_of_range(tmp_path, capsys, option, value):
    picture = tmp_path / "in.png"
    cv2.imwrite(str(picture), np.full((32, 32, 3), 128, np.uint8))
    code, _, err = run_cli(["image", picture, "-o", tmp_path / "o.png", "--style", "muted_soft_photo", option,
                            value], capsys)
    assert code == 2 and option in error_line(err)


@pytest.mark.parametrize(("option", "value"), [("--size", "0x0"), ("--size", "99999x99999"), ("--max-frames", "0"),
                                               ("--target-fps", "-1"), ("--target-fps", "nan"),
                                               ("--max-side", "-1"), ("--strength", "nan")])
def test_webcam_refuses_out_of_range(tmp_path, capsys, option, value):
    code, _, err = run_cli(["webcam", "--style", "muted_soft_photo", "--no-window", "--source", tmp_path / "none.mp4",
                            option, value], capsys)
    assert code == 2 and option in error_line(err)


def test_limits_themselves_are_accepted(clip24, tmp_path, capsys):
    code, _, err = run_cli(["run", clip24, "-o", tmp_path / "o.mp4", *FAST, "--temporal-weight", "0", "--strength",
                            "0", "--crf", "51", "--max-frames", "1", "--segment-frames", "1", "--flow-scale", "1"],
                           capsys)
    assert code == 0, err


def test_metrics_refuses_out_of_range(clip24, capsys):
    code, _, err = run_cli(["metrics", clip24, clip24, "--max-frames", "0"], capsys)
    assert code == 2 and "--max-frames" in error_line(err)
