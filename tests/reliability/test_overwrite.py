"""--overwrite replaces only what vidstyle would have written; anything else at the output path is
refused with one line (exit 2) and left untouched. Before, a folder there was deleted with rmtree."""

from __future__ import annotations

import os
import shutil

import cv2
import numpy as np
import pytest

from vidstyle.errors import UserInputError
from vidstyle.build import ProcessorSettings
from vidstyle.live.session import WebcamSettings, check_webcam_files
from vidstyle.stylize.registry import StyleRequest

from clitools import FAST, error_line, run_cli


def test_folder_at_output_is_kept(clip24, tmp_path, capsys):
    out = tmp_path / "painted.mp4"
    out.mkdir()
    (out / "holiday.jpg").write_bytes(b"my photo")
    code, _, err = run_cli(["run", clip24, "-o", out, *FAST, "--overwrite"], capsys)
    assert code == 2
    assert "is a folder" in error_line(err)
    assert (out / "holiday.jpg").read_bytes() == b"my photo"


def test_named_pipe_at_output_is_refused(clip24, tmp_path, capsys):
    out = tmp_path / "painted.mp4"
    os.mkfifo(out)
    code, _, err = run_cli(["run", clip24, "-o", out, *FAST, "--overwrite"], capsys)
    assert code == 2 and "named pipe" in error_line(err)
    assert out.exists() and not out.is_file()


def test_device_at_output_is_refused(clip24, tmp_path, capsys):
    out = tmp_path / "painted.mp4"
    out.symlink_to("/dev/null")
    code, _, err = run_cli(["run", clip24, "-o", out, *FAST, "--overwrite"], capsys)
    assert code == 2 and "a device" in error_line(err)
    assert out.is_symlink() and os.readlink(out) == "/dev/null"


def test_file_of_another_kind_is_refused(clip24, tmp_path, capsys):
    out = tmp_path / "painted.mp4"
    out.write_text("my notes, not a video\n")
    code, _, err = run_cli(["run", clip24, "-o", out, *FAST, "--overwrite"], capsys)
    assert code == 2 and "not a .mp4 file" in error_line(err)
    assert out.read_text() == "my notes, not a video\n"


def test_a_video_is_replaced(clip24, tmp_path, capsys):
    out = tmp_path / "painted.mp4"
    shutil.copy(clip24, out)
    code, _, err = run_cli(["run", clip24, "-o", out, *FAST, "--overwrite", "--no-temporal"], capsys)
    assert code == 0, err
    assert out.read_bytes() != clip24.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["painted.mp4"]  # no work folder, no temporary left


@pytest.mark.parametrize("intruder", ["folder", "text"])
def test_frames_pattern_refuses_what_is_not_its_frames(clip24, tmp_path, capsys, intruder):
    folder = tmp_path / "frames"
    folder.mkdir()
    cv2.imwrite(str(folder / "f_0001.png"), np.zeros((8, 8, 3), np.uint8))
    odd = folder / "f_0002.png"
    if intruder == "folder":
        odd.mkdir()
        (odd / "keep.txt").write_text("mine")
    else:
        odd.write_text("mine")
    code, _, err = run_cli(["run", clip24, "-o", folder / "f_%04d.png", *FAST, "--overwrite"], capsys)
    assert code == 2, err
    error_line(err)
    assert (folder / "f_0001.png").exists()
    assert (odd / "keep.txt").read_text() == "mine" if intruder == "folder" else odd.read_text() == "mine"


def test_frames_of_the_pattern_are_replaced(clip24, tmp_path, capsys):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(1, 40):  # more old frames than the render writes: the extra ones go too
        cv2.imwrite(str(folder / f"f_{i:04d}.png"), np.zeros((8, 8, 3), np.uint8))
    code, _, err = run_cli(["run", clip24, "-o", folder / "f_%04d.png", *FAST, "--overwrite", "--no-temporal"],
                           capsys)
    assert code == 0, err
    assert len(list(folder.glob("f_*.png"))) == 24
    assert cv2.imread(str(folder / "f_0001.png")).shape == (48, 64, 3)


def test_image_command_keeps_a_folder(tmp_path, capsys):
    picture = tmp_path / "in.png"
    cv2.imwrite(str(picture), np.full((32, 32, 3), 128, np.uint8))
    out = tmp_path / "out.png"
    out.mkdir()
    code, _, err = run_cli(["image", picture, "-o", out, "--style", "muted_soft_photo", "--overwrite"], capsys)
    assert code == 2 and "is a folder" in error_line(err)
    assert out.is_dir()


def test_webcam_recording_keeps_a_folder(tmp_path):
    out = tmp_path / "rec.mp4"
    out.mkdir()
    settings = WebcamSettings(processing=ProcessorSettings(style=StyleRequest(style="muted_soft_photo")),
                              output=out, overwrite=True)
    with pytest.raises(UserInputError, match="is a folder"):
        check_webcam_files(settings)


def test_work_dir_holding_user_files_is_refused(clip24, tmp_path, capsys):
    """Before: the render used the folder and removed it, with the user's files, when done."""
    work = tmp_path / "documents"
    work.mkdir()
    (work / "thesis.tex").write_text("years of work")
    code, _, err = run_cli(["run", clip24, "-o", tmp_path / "out.mp4", *FAST, "--work-dir", work], capsys)
    assert code == 2 and "did not write" in error_line(err)
    assert (work / "thesis.tex").read_text() == "years of work"


def test_work_dir_naming_a_file_is_refused(clip24, tmp_path, capsys):
    work = tmp_path / "work"
    work.write_text("x")
    code, _, err = run_cli(["run", clip24, "-o", tmp_path / "out.mp4", *FAST, "--work-dir", work], capsys)
    assert code == 2 and "is a file" in error_line(err)
    assert work.read_text() == "x"
