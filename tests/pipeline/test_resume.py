"""A render killed half-way leaves nothing at the output, and --resume finishes it identically, seeking
to the first missing frame instead of decoding from the start."""

from __future__ import annotations

import numpy as np
import pytest

from vidstyle.errors import RenderInterrupted, UserInputError
from vidstyle.io.reader import VideoFileSource, open_source
from vidstyle.pipeline import render
from vidstyle.resume import WorkDir

FINGERPRINT = {"style": "posterize"}


def _differing(a: list[np.ndarray], b: list[np.ndarray]) -> list[tuple[int, int]]:
    return [(i, int(np.abs(x.astype(int) - y).max())) for i, (x, y) in enumerate(zip(a, b)) if not np.array_equal(x, y)]


@pytest.mark.parametrize("long_term, ahead", [((), False), ((2, 4), False), ((), True)],
                         ids=["short-term", "long-term", "painting-ahead"])
def test_interrupted_render_resumes_to_the_same_frames(clip16, tmp_path, posterize, decode, long_term, ahead):
    """With ``ahead`` the interrupted render paints ahead: Ctrl-C in its painter thread stops it too."""
    reference = tmp_path / "reference.mp4"
    render(open_source(clip16), posterize(long_term), reference,
           WorkDir(tmp_path / "w1", FINGERPRINT, resume=False, overwrite=False), segment_frames=5)

    out = tmp_path / "out.mp4"
    work_path = tmp_path / "w2"
    with pytest.raises(RenderInterrupted, match="--resume"):
        render(open_source(clip16), posterize(long_term, dies_at=12, ahead=ahead), out,
               WorkDir(work_path, FINGERPRINT, resume=False, overwrite=False), segment_frames=5)
    assert not out.exists()
    assert not list(tmp_path.glob("**/*.partial*"))
    assert WorkDir(work_path, FINGERPRINT, resume=True, overwrite=False).frames_done == 10

    with pytest.raises(UserInputError, match="add --resume"):
        WorkDir(work_path, FINGERPRINT, resume=False, overwrite=False)
    with pytest.raises(UserInputError, match="other settings"):
        WorkDir(work_path, {"style": "other"}, resume=True, overwrite=False)

    result = render(open_source(clip16), posterize(long_term), out,
                    WorkDir(work_path, FINGERPRINT, resume=True, overwrite=False), segment_frames=5)
    assert result.resumed_frames == 10 and result.frames == 16
    resumed, uninterrupted = decode(out), decode(reference)
    assert len(resumed) == len(uninterrupted) == 16
    assert _differing(resumed, uninterrupted) == []
    assert not work_path.exists()


def test_resume_seeks_to_the_first_missing_frame(gop_clip, tmp_path, posterize, decode):
    """24 frames, keyframe every 4: after 12 finished frames the resumed render decodes from frame 12
    (a keyframe), not from 0, and still equals the uninterrupted render."""
    reference = tmp_path / "reference.mp4"
    render(open_source(gop_clip), posterize(), reference,
           WorkDir(tmp_path / "w1", FINGERPRINT, resume=False, overwrite=False), segment_frames=6)
    out, work_path = tmp_path / "out.mp4", tmp_path / "w2"
    with pytest.raises(RenderInterrupted):
        render(open_source(gop_clip), posterize(dies_at=15), out,
               WorkDir(work_path, FINGERPRINT, resume=False, overwrite=False), segment_frames=6)

    source = VideoFileSource(gop_clip)
    result = render(source, posterize(), out, WorkDir(work_path, FINGERPRINT, resume=True, overwrite=False),
                    segment_frames=6)
    assert result.resumed_frames == 12 and result.frames == 24
    assert 12 <= source.frames_decoded <= 12 + 4  # from the keyframe at or before frame 12, not 24
    assert _differing(decode(out), decode(reference)) == []
