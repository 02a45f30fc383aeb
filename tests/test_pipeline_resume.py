"""A render killed half-way leaves nothing at the output, and --resume finishes it identically."""

from __future__ import annotations

import av
import numpy as np
import pytest
import torch

from vidstyle.errors import RenderInterrupted, UserInputError
from vidstyle.flow.opencv import DisFlow
from vidstyle.io.reader import open_source
from vidstyle.pipeline import render
from vidstyle.processor import FrameProcessor
from vidstyle.resume import WorkDir
from vidstyle.temporal.consistency import FlowTemporalFilter, TemporalSettings


class PosterizeStylizer:
    """Cheap deterministic 'painting' whose texture flickers with the frame content (for temporal state)."""

    name = "posterize"
    device = torch.device("cpu")

    def stylize(self, content: torch.Tensor) -> torch.Tensor:
        return (content * 4).round() / 4


class DiesAt(PosterizeStylizer):
    """Raises Ctrl-C on the n-th frame, as a user pressing it would."""

    def __init__(self, n: int) -> None:
        self.n, self.seen = n, 0

    def stylize(self, content: torch.Tensor) -> torch.Tensor:
        self.seen += 1
        if self.seen == self.n:
            raise KeyboardInterrupt
        return super().stylize(content)


def _processor(stylizer, long_term: tuple[int, ...] = ()) -> FrameProcessor:
    return FrameProcessor(stylizer, FlowTemporalFilter(DisFlow(), TemporalSettings(long_term=long_term)),
                          max_side=None)


def _decode(path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


FINGERPRINT = {"style": "posterize"}


@pytest.mark.parametrize("long_term", [(), (2, 4)], ids=["short-term", "long-term"])
def test_interrupted_render_resumes_to_the_same_frames(clip16, tmp_path, long_term):
    reference = tmp_path / "reference.mp4"
    render(open_source(clip16), _processor(PosterizeStylizer(), long_term), reference,
           WorkDir(tmp_path / "w1", FINGERPRINT, resume=False, overwrite=False), segment_frames=5)

    out = tmp_path / "out.mp4"
    work_path = tmp_path / "w2"
    with pytest.raises(RenderInterrupted, match="--resume"):
        render(open_source(clip16), _processor(DiesAt(12), long_term), out,
               WorkDir(work_path, FINGERPRINT, resume=False, overwrite=False), segment_frames=5)
    assert not out.exists()
    assert not list(tmp_path.glob("*.partial*"))
    assert WorkDir(work_path, FINGERPRINT, resume=True, overwrite=False).frames_done == 10

    with pytest.raises(UserInputError, match="add --resume"):
        WorkDir(work_path, FINGERPRINT, resume=False, overwrite=False)
    with pytest.raises(UserInputError, match="other settings"):
        WorkDir(work_path, {"style": "other"}, resume=True, overwrite=False)

    result = render(open_source(clip16), _processor(PosterizeStylizer(), long_term), out,
                    WorkDir(work_path, FINGERPRINT, resume=True, overwrite=False), segment_frames=5)
    assert result.resumed_frames == 10 and result.frames == 16
    resumed, uninterrupted = _decode(out), _decode(reference)
    assert len(resumed) == len(uninterrupted) == 16
    differing = [(i, int(np.abs(a.astype(int) - b).max())) for i, (a, b) in enumerate(zip(resumed, uninterrupted))
                 if not np.array_equal(a, b)]
    assert differing == []
    assert not work_path.exists()
