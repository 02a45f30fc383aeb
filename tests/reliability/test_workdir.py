"""WorkDir after a failure: abandon() removes a folder holding no finished segment and keeps one that
holds some; a damaged manifest is refused, and replaced only with --overwrite."""

from __future__ import annotations

import pytest
import torch

from vidstyle.errors import UserInputError
from vidstyle.resume import MANIFEST, Segment, WorkDir

KEY = {"input": "clip.mp4", "style": "a"}


def test_abandon_removes_a_folder_with_nothing_to_resume(tmp_path):
    work = WorkDir(tmp_path / "w", KEY, resume=False, overwrite=False)
    assert (work.path / MANIFEST).exists()
    assert work.abandon() == ""
    assert not work.path.exists()


def test_abandon_keeps_finished_segments_and_says_where(tmp_path):
    work = WorkDir(tmp_path / "w", KEY, resume=False, overwrite=False)
    work.segment_path(0, ".mkv").write_bytes(b"video")
    work.finish_segment(Segment(0, 4, 0, 3), {"previous": torch.zeros(1, 3, 4, 4)})
    message = work.abandon()
    assert "4 finished frames are kept in" in message and str(work.path) in message and "--resume" in message
    assert work.path.is_dir()
    again = WorkDir(tmp_path / "w", KEY, resume=True, overwrite=False)
    assert again.contiguous_end() == 4 and torch.equal(again.state_before(4)["previous"], torch.zeros(1, 3, 4, 4))


@pytest.mark.parametrize("text", ['{"version": 2, "fingerp', "", "[1, 2]", '{"version": 2}'])
def test_damaged_manifest(tmp_path, text):
    folder = tmp_path / "w"
    folder.mkdir()
    (folder / MANIFEST).write_text(text)
    for resume in (True, False):
        with pytest.raises(UserInputError, match="damaged"):
            WorkDir(folder, KEY, resume=resume, overwrite=False)
    work = WorkDir(folder, KEY, resume=False, overwrite=True)
    assert work.segments == [] and (folder / MANIFEST).read_text().startswith("{")
