"""Encoding and assembly: audio copied bit for bit, transcoded when it must be, rotation, odd sizes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import av
import numpy as np
import pytest

from vidstyle.io.reader import open_source
from vidstyle.pipeline import render
from vidstyle.processor import FrameProcessor
from vidstyle.resume import WorkDir
from vidstyle.stylize.base import IdentityStylizer
from vidstyle.synth import synth_frames, write_clip


def identity_render(src_path: Path, out: Path, **source_kw) -> None:
    source = open_source(src_path, **source_kw)
    processor = FrameProcessor(IdentityStylizer(), None, max_side=None)
    work = WorkDir(out.parent / (out.name + ".work"), {"test": 1}, resume=False, overwrite=True)
    render(source, processor, out, work, segment_frames=50)


def audio_digest(path: Path, window: tuple[float, float] | None = None) -> tuple[int, str, float]:
    """(packets, sha256 of their bytes, duration in s) of the first audio stream."""
    with av.open(str(path)) as c:
        s = c.streams.audio[0]
        h, n, last = hashlib.sha256(), 0, 0.0
        for p in c.demux(s):
            if p.size:
                h.update(bytes(p))
                n += 1
                last = max(last, float((p.pts + p.duration) * s.time_base))
        return n, h.hexdigest(), last


def video_pts(path: Path) -> list[int]:
    with av.open(str(path)) as c:
        return [f.pts for f in c.decode(video=0)]


class TestAudioCopy:
    def test_generated_aac_is_bit_identical(self, clip16, tmp_path):
        out = tmp_path / "out.mp4"
        identity_render(clip16, out)
        assert audio_digest(out)[:2] == audio_digest(clip16)[:2]
        assert video_pts(out) == video_pts(clip16)

    @pytest.mark.slow
    @pytest.mark.parametrize("name", ["cutBunny.mp4", "chaplin.mp4"])
    def test_real_audio_is_bit_identical(self, shared_path, tmp_path, name):
        src = shared_path(f"videos/{name}")
        out = tmp_path / "out.mp4"
        identity_render(src, out)
        assert audio_digest(out)[:2] == audio_digest(src)[:2]
        assert video_pts(out) == video_pts(src)

    def test_start_end_copies_whole_overlapping_packets(self, clip16, tmp_path):
        out = tmp_path / "cut.mp4"
        identity_render(clip16, out, start=0.25, end=0.5)
        assert len(video_pts(out)) == 6
        n, _, duration = audio_digest(out)
        assert 0.25 <= duration <= 0.25 + 2 * 1024 / 44100 + 1e-3  # whole packets around the range
        assert n >= int(0.25 * 44100 / 1024)


class TestAudioTranscode:
    @pytest.mark.parametrize("video_codec,audio_codec,suffix", [("libvpx", "vorbis", ".webm"),
                                                                ("libx264", "libopus", ".mkv")])
    def test_audio_survives_into_mp4(self, tmp_path, video_codec, audio_codec, suffix):
        src = write_clip(tmp_path / f"in{suffix}", synth_frames(24, 96, 64), fps=24, video_codec=video_codec,
                         audio_codec=audio_codec)
        out = tmp_path / "out.mp4"
        identity_render(src, out)
        with av.open(str(out)) as c:
            codec = c.streams.audio[0].codec_context.codec.canonical_name
            samples = np.concatenate([f.to_ndarray().ravel() for f in c.decode(audio=0)])
        expected = "aac" if audio_codec == "vorbis" else "opus"  # opus is copied, vorbis transcoded
        assert codec == expected
        assert np.abs(samples).max() > 0.05  # audible, not silence
        assert audio_digest(out)[2] == pytest.approx(audio_digest(src)[2], abs=0.05)


class TestVideoGeometry:
    def test_odd_size_is_padded_not_crashing(self, tmp_path):
        src = write_clip(tmp_path / "odd.mkv", [f[:63, :95] for f in synth_frames(6, 96, 64)], fps=24,
                         video_codec="ffv1", audio_codec=None)
        out = tmp_path / "out.mp4"
        identity_render(src, out)
        with av.open(str(out)) as c:
            s = c.streams.video[0]
            assert (s.width, s.height) == (96, 64)
            assert "padding right=1 bottom=1" in c.metadata.get("comment", "")
            assert sum(1 for _ in c.decode(video=0)) == 6

    def test_rotation_is_kept(self, shared_path, tmp_path):
        src = shared_path("videos/video_90.mov")
        out = tmp_path / "out.mp4"
        identity_render(src, out)
        with av.open(str(out)) as c:
            frames = list(c.decode(video=0))
        assert len(frames) == 3
        assert frames[0].rotation == -90 and (frames[0].width, frames[0].height) == (568, 320)

    def test_rotation_is_baked_into_image_sequences(self, shared_path, tmp_path):
        import cv2

        src = shared_path("videos/video_90.mov")
        identity_render(src, tmp_path / "seq" / "f_%03d.png")
        first = cv2.imread(str(tmp_path / "seq" / "f_001.png"))
        assert first.shape[:2] == (568, 320)  # displayed upright: portrait
