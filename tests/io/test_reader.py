"""Decoding: frame counts, pts, ranges, image sequences and their errors."""

from __future__ import annotations

from fractions import Fraction

import av
import cv2
import numpy as np
import pytest

from vidstyle.errors import UserInputError
from vidstyle.io.reader import ImageSequenceSource, VideoFileSource, open_source, parse_time
from vidstyle.io.sequence import existing_frames, find_sequence
from vidstyle.synth import synth_frames


def _pts(path) -> list[int]:
    with av.open(str(path)) as c:
        return [f.pts for f in c.decode(video=0)]


class TestVideoFileSource:
    def test_frame_count_and_pts_equal_the_input(self, clip16):
        src = VideoFileSource(clip16)
        frames = list(src.frames())
        assert len(frames) == 16
        assert [f.pts for f in frames] == _pts(clip16)
        assert frames[0].image.shape == (96, 160, 3) and frames[0].image.dtype == np.uint8
        assert src.info.frame_rate == 24 and src.info.has_audio

    def test_pixels_match_pyav(self, clip16):
        with av.open(str(clip16)) as c:
            first = next(c.decode(video=0)).to_ndarray(format="rgb24")
        assert np.array_equal(next(VideoFileSource(clip16).frames()).image, first)

    def test_max_frames_and_range(self, clip16):
        assert len(list(VideoFileSource(clip16, max_frames=5).frames())) == 5
        frames = list(VideoFileSource(clip16, start=0.25, end=0.5).frames())
        assert len(frames) == 6  # frames 6..11 at 24 fps
        assert frames[0].pts == 0 and frames[0].index == 0

    def test_missing_file(self, tmp_path):
        with pytest.raises(UserInputError, match="input not found"):
            VideoFileSource(tmp_path / "nope.mp4")

    def test_not_a_video(self, tmp_path):
        bad = tmp_path / "notes.mp4"
        bad.write_text("this is not a video")
        with pytest.raises(UserInputError, match="not a video or damaged"):
            VideoFileSource(bad)

    def test_audio_only_file_has_no_video_stream(self, tmp_path):
        path = tmp_path / "audio.m4a"
        with av.open(str(path), "w") as out:
            s = out.add_stream("aac", rate=44100)
            frame = av.AudioFrame.from_ndarray(np.zeros((2, 1024), np.float32), format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = 44100, 0
            for p in s.encode(frame):
                out.mux(p)
            for p in s.encode():
                out.mux(p)
        with pytest.raises(UserInputError, match="no video stream"):
            VideoFileSource(path)

    def test_truncated_file(self, clip16, tmp_path):
        data = clip16.read_bytes()
        cut = tmp_path / "cut.mp4"
        cut.write_bytes(data[: len(data) // 3])
        with pytest.raises(UserInputError, match=r"cut\.mp4"):
            list(VideoFileSource(cut).frames())

    def test_end_before_start(self, clip16):
        with pytest.raises(UserInputError, match="must be after --start"):
            VideoFileSource(clip16, start=2, end=1)

    def test_rotation_is_read(self, shared_data):
        path = shared_data / "videos" / "video_90.mov"
        if not path.exists():
            pytest.skip("video_90.mov not in shared data")
        assert VideoFileSource(path).info.rotation == 270  # -90 (clockwise) as counter-clockwise degrees


class TestParseTime:
    @pytest.mark.parametrize("text,seconds", [("12.5", 12.5), ("01:02", 62.0), ("01:00:01.250", 3601.25)])
    def test_formats(self, text, seconds):
        assert parse_time(text) == pytest.approx(seconds)

    def test_bad(self):
        with pytest.raises(UserInputError, match="bad time"):
            parse_time("soon")


def _write_sequence(folder, numbers, size=(64, 48)):
    folder.mkdir(parents=True, exist_ok=True)
    frames = synth_frames(len(numbers), *size)
    for n, f in zip(numbers, frames):
        cv2.imwrite(str(folder / f"frame_{n:04d}.png"), cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    return frames


class TestImageSequence:
    def test_pattern_and_folder_agree(self, tmp_path):
        frames = _write_sequence(tmp_path / "shot", range(7, 12))
        by_pattern = find_sequence(tmp_path / "shot" / "frame_%04d.png")
        by_folder = find_sequence(tmp_path / "shot")
        assert by_pattern.first == by_folder.first == 7
        assert by_pattern.paths == by_folder.paths and len(by_pattern.paths) == 5
        src = ImageSequenceSource(tmp_path / "shot", fps=25)
        decoded = list(src.frames())
        assert [f.pts for f in decoded] == [0, 1, 2, 3, 4]
        assert src.info.time_base == Fraction(1, 25) and src.info.first_number == 7
        assert np.array_equal(decoded[2].image, frames[2])

    def test_gap_is_an_error(self, tmp_path):
        _write_sequence(tmp_path / "shot", [1, 2, 4])
        with pytest.raises(UserInputError, match="gaps: missing frame 3"):
            find_sequence(tmp_path / "shot" / "frame_%04d.png")

    def test_empty_folder(self, tmp_path):
        with pytest.raises(UserInputError, match="no numbered images"):
            open_source(tmp_path)

    def test_existing_frames(self, tmp_path):
        _write_sequence(tmp_path / "out", [1, 2])
        assert len(existing_frames(tmp_path / "out" / "frame_%04d.png")) == 2
        assert existing_frames(tmp_path / "none" / "frame_%04d.png") == []
