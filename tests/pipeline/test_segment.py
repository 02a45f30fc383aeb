"""render_segment: two halves, the second from the first's final state, equal one render bit for bit;
the work folder orders segments by first frame whatever order they finish in."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidstyle.errors import UserInputError
from vidstyle.io.reader import ImageSequenceSource, VideoFileSource, open_source
from vidstyle.io.writer import EncodeSettings, write_image
from vidstyle.pipeline import make_sink, render, render_segment
from vidstyle.resume import Segment, WorkDir

LOSSLESS = EncodeSettings(codec="ffv1")


def _work(path, **kwargs) -> WorkDir:
    return WorkDir(path, {"test": "segment"}, resume=kwargs.get("resume", False), overwrite=False)


def test_two_halves_equal_one_render(clip16, tmp_path, posterize, decode):
    whole = tmp_path / "whole.mkv"
    render(open_source(clip16), posterize(), whole, _work(tmp_path / "w1"), encode=LOSSLESS)

    halves = tmp_path / "halves.mkv"
    processor = posterize()
    sink = make_sink(open_source(clip16).info, (160, 96), halves, _work(tmp_path / "w2"), LOSSLESS, 240)
    state = render_segment(open_source(clip16), (0, 7), {}, sink, processor=processor)
    assert state and sink.work.contiguous_end() == 7
    source = open_source(clip16)
    render_segment(source, (7, None), state, sink, processor=posterize())  # a fresh processor: state only
    sink.assemble(halves, first_time=source.first_time, first_number=1)

    a, b = decode(whole), decode(halves)
    assert len(a) == len(b) == 16
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    # a cold second half differs: the state is what makes the halves equal
    cold = tmp_path / "cold.mkv"
    processor = posterize()
    sink = make_sink(open_source(clip16).info, (160, 96), cold, _work(tmp_path / "w3"), LOSSLESS, 240)
    render_segment(open_source(clip16), (0, 7), {}, sink, processor=processor)
    render_segment(open_source(clip16), (7, None), {}, sink, processor=posterize())
    sink.assemble(cold, first_time=0.0, first_number=1)
    assert not np.array_equal(decode(cold)[7], a[7])


def test_painting_ahead_renders_the_same_frames(clip16, tmp_path, posterize, decode):
    """The network of frame t+1 in the painter thread while frame t's temporal step runs: the same
    video bit for bit, each frame painted once, on the painter's one thread; the caller's thread count
    is left as it was."""
    outputs = []
    threads = torch.get_num_threads()
    for ahead in (False, True):
        processor = posterize(ahead=ahead)
        outputs.append(tmp_path / f"ahead-{ahead}.mkv")
        render(open_source(clip16), processor, outputs[-1], _work(tmp_path / f"w{ahead}"), encode=LOSSLESS)
        assert processor.stylizer.seen == 16 and torch.get_num_threads() == threads
        assert processor.stylizer.threads == ({1} if ahead else {threads})
    sequential, ahead = decode(outputs[0]), decode(outputs[1])
    assert len(sequential) == len(ahead) == 16
    assert all(np.array_equal(x, y) for x, y in zip(sequential, ahead))


def test_warmup_frames_are_painted_but_not_written(clip16, tmp_path, posterize):
    processor = posterize()
    work = _work(tmp_path / "w")
    sink = make_sink(open_source(clip16).info, (160, 96), tmp_path / "o.mkv", work, LOSSLESS, 240)
    render_segment(open_source(clip16), (10, 14), {}, sink, processor=processor, warmup=3)
    assert processor.stylizer.seen == 7
    assert work.segments == [Segment(10, 4, work.segments[0].first_pts, work.segments[0].last_pts)]


def test_seeking_is_frame_accurate(gop_clip):
    """frames(k) yields what a decode from the start yields from k on, pixels and pts (B-frames)."""
    everything = list(VideoFileSource(gop_clip).frames())
    for k in (1, 4, 5, 11, 23):
        source = VideoFileSource(gop_clip)
        tail = list(source.frames(k))
        assert [f.index for f in tail] == list(range(k, 24))
        assert [f.pts for f in tail] == [f.pts for f in everything[k:]]
        assert all(np.array_equal(a.image, b.image) for a, b in zip(tail, everything[k:]))
        assert source.frames_decoded < 24 - k + 4
    assert list(VideoFileSource(gop_clip).frames(24)) == []


def test_image_sequence_seeks_by_index(tmp_path):
    for i in range(6):
        write_image(tmp_path / f"f_{i + 1:03d}.png", np.full((8, 8, 3), 40 * i, np.uint8))
    source = ImageSequenceSource(tmp_path / "f_%03d.png")
    frames = list(source.frames(4))
    assert [(f.index, f.pts, int(f.image[0, 0, 0])) for f in frames] == [(4, 4, 160), (5, 5, 200)]
    assert source.count_frames() == 6


def test_work_dir_orders_segments_by_first_frame(tmp_path):
    """Segments finished out of order (two workers) are listed, resumed and chained by first frame."""
    work = _work(tmp_path / "w")
    for first in (0, 10):  # the segments' files (a record without its file is redone on resume)
        work.segment_path(first, ".mkv").write_bytes(b"video")
    work.finish_segment(Segment(10, 5, 1000, 1400), {"x": torch.tensor([2.0])})
    assert work.contiguous_end() == 0
    work.finish_segment(Segment(0, 10, 0, 900), {"x": torch.tensor([1.0])})
    again = _work(tmp_path / "w", resume=True)
    assert [s.first_frame for s in again.segments] == [0, 10]
    assert again.contiguous_end() == 15 and again.frames_done == 15
    assert float(again.state_before(10)["x"]) == 1.0 and again.state_before(0) == {}
    with pytest.raises(UserInputError, match="no finished segment ending at frame 12"):
        again.state_before(12)
    with pytest.raises(UserInputError, match="other settings"):
        WorkDir(tmp_path / "w", {"test": "other"}, resume=True, overwrite=False)
    with pytest.raises(UserInputError, match="add --resume"):
        _work(tmp_path / "w")
