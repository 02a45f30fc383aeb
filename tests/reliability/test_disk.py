"""A full disk, a read-only work folder, cut-short state and manifest files: one line and exit 2,
finished segments kept for --resume, nothing at the output path.

A full disk is real here: the file about to be written is a link to /dev/full, whose writes fail with
ENOSPC, so PyAV, torch and Python meet the error exactly where a full disk would stop them."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest

import vidstyle.io.atomic as atomic
import vidstyle.resume as resume

from clitools import FAST, decoded, error_line, run_cli, summary

SEGMENTED = [*FAST, "--segment-frames", "8", "--json"]


def _full_disk_for(monkeypatch, name_part: str) -> None:
    """Temporary files whose target name contains ``name_part`` land on a full disk."""
    original = atomic.temp_path_for

    def temp(target):
        tmp = original(target)
        if name_part in target.name:
            tmp.symlink_to("/dev/full")
        return tmp

    monkeypatch.setattr(atomic, "temp_path_for", temp)


def test_full_disk_at_a_state_file_keeps_finished_segments(clip24, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out.mp4"
    code, _, err = run_cli(["run", clip24, "-o", out, *SEGMENTED], capsys)
    assert code == 0, err
    reference = decoded(out)
    out.unlink()
    with monkeypatch.context() as m:
        _full_disk_for(m, "state_000000008")  # the state after the second segment (frames 8-15)
        code, _, err = run_cli(["run", clip24, "-o", out, *SEGMENTED], capsys)
    line = error_line(err)
    assert code == 2 and "no space left on the device holding" in line and "MB free" in line
    assert "this render needs about" in line and "8 finished frames are kept" in line and "--resume" in line
    assert not out.exists()
    work = tmp_path / ".out.mp4.vidstyle-work"
    assert not (work / "segment_000000008.json").exists()  # the segment is not recorded as finished
    partial = work / ".state_000000008.0badf00d.partial.pt"
    partial.write_bytes(b"PK\x03\x04 cut short")  # what a full disk can leave: a .partial never breaks resume
    code, stdout, err = run_cli(["run", clip24, "-o", out, *SEGMENTED, "--resume"], capsys)
    assert code == 0, err
    assert summary(stdout)["resumed_frames"] == 8
    pts, frames = decoded(out)
    assert pts == reference[0] and all(np.array_equal(a, b) for a, b in zip(frames, reference[1]))
    assert not work.exists()


def test_full_disk_at_the_first_segment_leaves_nothing(clip24, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out.mp4"
    _full_disk_for(monkeypatch, "segment_00000")
    code, _, err = run_cli(["run", clip24, "-o", out, *SEGMENTED], capsys)
    assert code == 2 and "no space left" in error_line(err)
    assert list(tmp_path.iterdir()) == []  # no output, no temporary, no work folder with nothing to resume


def test_full_disk_at_the_output_keeps_every_segment(clip24, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out.mp4"
    with monkeypatch.context() as m:
        _full_disk_for(m, "out.mp4")
        code, _, err = run_cli(["run", clip24, "-o", out, *SEGMENTED], capsys)
    line = error_line(err)
    assert code == 2 and "no space left" in line and "24 finished frames are kept" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.mp4.vidstyle-work"]
    code, stdout, err = run_cli(["run", clip24, "-o", out, *SEGMENTED, "--resume"], capsys)
    assert code == 0, err
    assert summary(stdout)["resumed_frames"] == 24 and len(decoded(out)[0]) == 24


def test_read_only_work_folder(clip24, tmp_path, capsys, monkeypatch):
    """The manifest write fails as on a read-only filesystem (root ignores chmod, so it is injected)."""
    def read_only(target, **_):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(target))

    monkeypatch.setattr(resume, "atomic_output", read_only)
    code, _, err = run_cli(["run", clip24, "-o", tmp_path / "out.mp4", *FAST, "--work-dir", tmp_path / "w"], capsys)
    line = error_line(err)
    assert code == 2 and "read-only" in line and "work folder" in line


def test_cut_short_state_file_is_redone_on_resume(clip24, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out.mp4"
    with monkeypatch.context() as m:
        _full_disk_for(m, "out.mp4")
        code, _, err = run_cli(["run", clip24, "-o", out, *SEGMENTED], capsys)
    assert code == 2, err
    state = tmp_path / ".out.mp4.vidstyle-work" / "state_000000016.pt"
    state.write_bytes(state.read_bytes()[:100])
    code, stdout, err = run_cli(["run", clip24, "-o", out, *SEGMENTED, "--resume"], capsys)
    assert code == 0, err
    assert summary(stdout)["resumed_frames"] == 16 and summary(stdout)["frames"] == 24


@pytest.mark.parametrize("resume", [True, False])
def test_damaged_manifest_is_one_line(clip24, tmp_path, capsys, resume):
    work = tmp_path / ".out.mp4.vidstyle-work"
    work.mkdir()
    (work / "manifest.json").write_text('{"version": 1, "segm')
    code, _, err = run_cli(["run", clip24, "-o", tmp_path / "out.mp4", *FAST, *(["--resume"] if resume else [])],
                           capsys)
    assert code == 2 and "manifest.json" in error_line(err) and "damaged" in err
    code, _, err = run_cli(["run", clip24, "-o", tmp_path / "out.mp4", *FAST, "--overwrite", "--no-temporal"],
                           capsys)
    assert code == 0, err


def _interrupted_at_output(clip24, out, capsys, monkeypatch):
    """A render of every segment that fails at the output (full disk): the work folder keeps 3 segments."""
    with monkeypatch.context() as m:
        _full_disk_for(m, "out.mp4")
        code, _, err = run_cli(["run", clip24, "-o", out, *SEGMENTED], capsys)
    assert code == 2, err
    return out.parent / ".out.mp4.vidstyle-work"


@pytest.mark.parametrize(("damage", "resumed"), [("segment file missing", 8), ("record cut short", 16),
                                                 ("state missing", 8)])
def test_recorded_segment_with_missing_or_cut_short_files_is_redone(clip24, tmp_path, capsys, monkeypatch,
                                                                     damage, resumed):
    reference = tmp_path / "reference.mp4"
    code, _, err = run_cli(["run", clip24, "-o", reference, *SEGMENTED], capsys)
    assert code == 0, err
    out = tmp_path / "out.mp4"
    work = _interrupted_at_output(clip24, out, capsys, monkeypatch)
    if damage == "segment file missing":
        [segment] = [p for p in work.glob("segment_000000008*") if p.suffix != ".json"]
        segment.unlink()
    elif damage == "record cut short":
        record = work / "segment_000000016.json"
        record.write_text(record.read_text()[:10])
    else:
        (work / "state_000000008.pt").unlink()
    code, stdout, err = run_cli(["run", clip24, "-o", out, *SEGMENTED, "--resume"], capsys)
    assert code == 0, err
    assert summary(stdout)["resumed_frames"] == resumed and summary(stdout)["frames"] == 24
    (ref_pts, ref_frames), (pts, frames) = decoded(reference), decoded(out)
    assert pts == ref_pts and all(np.array_equal(a, b) for a, b in zip(frames, ref_frames))


@pytest.mark.parametrize(("target", "kept"), [("segment_000000008.json", 8), ("segment_000000016.", 16)])
def test_full_disk_at_a_record_or_segment_keeps_the_earlier_ones(clip24, tmp_path, capsys, monkeypatch, target,
                                                                 kept):
    out = tmp_path / "out.mp4"
    with monkeypatch.context() as m:
        _full_disk_for(m, target)
        code, _, err = run_cli(["run", clip24, "-o", out, *SEGMENTED], capsys)
    line = error_line(err)
    assert code == 2 and "no space left" in line and f"{kept} finished frames are kept" in line
    assert not out.exists()
    code, stdout, err = run_cli(["run", clip24, "-o", out, *SEGMENTED, "--resume"], capsys)
    assert code == 0, err
    assert summary(stdout)["resumed_frames"] == kept and summary(stdout)["frames"] == 24
