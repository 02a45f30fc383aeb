"""Audio features on generated signals: beats and onsets land on the right video frames, no drift."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from vidstyle.audio.decode import AudioTrack, decode_audio
from vidstyle.audio.features import audio_features, beat_times, frame_intervals
from vidstyle.errors import UserInputError

RATE = 22050
NTSC = 30000 / 1001  # 29.97 fps: a clip timed at 30 fps would be 1.8 frames off after 60 s


def click_track(seconds: float, bpm: float, first: float, rate: int = RATE) -> tuple[np.ndarray, np.ndarray]:
    """(samples, click times): 20 ms decaying 1.5 kHz clicks at ``bpm`` from ``first`` s, over soft noise."""
    rng = np.random.default_rng(0)
    y = 0.01 * rng.standard_normal(int(seconds * rate)).astype(np.float32)
    clicks = np.arange(first, seconds - 0.1, 60.0 / bpm)
    t = np.arange(int(0.02 * rate)) / rate
    click = (np.sin(2 * np.pi * 1500 * t) * np.exp(-t / 0.004)).astype(np.float32)
    for c in clicks:
        at = int(round(c * rate))
        y[at:at + len(click)] += click
    return y, clicks


def frame_of(times: np.ndarray, frame_times: np.ndarray) -> np.ndarray:
    """The frame whose display interval holds each time."""
    return np.searchsorted(frame_times, times, side="right") - 1


class TestClickTrack:
    @pytest.fixture(scope="class")
    @classmethod
    def features(cls):
        samples, clicks = click_track(60.0, bpm=120.0, first=0.31)
        frame_times = np.arange(int(60.0 * NTSC)) / NTSC
        track = AudioTrack(samples, RATE, 0.0)
        return audio_features(track, frame_times, ("onset", "beat", "rms")), clicks, frame_times, track

    def test_beats_on_the_click_frames(self, features):
        feats, clicks, frame_times, _ = features
        expected = frame_of(clicks, frame_times)
        beats = np.flatnonzero(feats["beat"] > 0)
        assert len(beats) >= 0.9 * len(clicks)
        # every tracked beat within one frame of a click, over the whole minute (no drift)
        off = np.abs(beats[:, None] - expected[None, :]).min(axis=1)
        assert off.max() <= 1
        assert np.abs(beats[-5:, None] - expected[None, -10:]).min(axis=1).max() <= 1

    def test_onset_peaks_on_the_click_frames(self, features):
        feats, clicks, frame_times, _ = features
        onset = feats["onset"]
        assert onset.min() == 0.0 and onset.max() == 1.0
        expected = frame_of(clicks, frame_times)
        peaks = np.flatnonzero((onset > 0.5) & (onset >= np.roll(onset, 1)) & (onset >= np.roll(onset, -1)))
        assert abs(len(peaks) - len(clicks)) <= 1
        assert np.abs(peaks[:, None] - expected[None, :]).min(axis=1).max() <= 1
        assert np.abs(expected[:, None] - peaks[None, :]).min(axis=1).max() <= 1

    def test_tempo(self, features):
        *_, track = features
        tempo, _ = beat_times(track)
        assert tempo == pytest.approx(120.0, rel=0.03)

    def test_rms_follows_loudness(self, features):
        feats, clicks, frame_times, _ = features
        click_frames = frame_of(clicks, frame_times)
        quiet = np.setdiff1d(np.arange(len(frame_times)), np.concatenate([click_frames + d for d in (-1, 0, 1, 2)]))
        assert feats["rms"][click_frames].mean() > 3 * feats["rms"][quiet].mean()


class TestBands:
    def test_low_and_high_split(self):
        t = np.arange(4 * RATE) / RATE
        y = np.where(t < 2, np.sin(2 * np.pi * 80 * t), np.sin(2 * np.pi * 5000 * t)).astype(np.float32) * 0.5
        frame_times = np.arange(96) / 24.0
        f = audio_features(AudioTrack(y, RATE, 0.0), frame_times, ("low", "high"))
        assert f["low"][5:40].mean() > 0.8 and f["low"][56:90].mean() < 0.1
        assert f["high"][56:90].mean() > 0.8 and f["high"][5:40].mean() < 0.1

    def test_unknown_feature(self):
        with pytest.raises(UserInputError, match="unknown audio feature 'bass'"):
            audio_features(AudioTrack(np.zeros(RATE, np.float32), RATE, 0.0), np.arange(3) / 24.0, ("bass",))


def test_frame_intervals_follow_vfr_times():
    starts, ends = frame_intervals(np.array([0.0, 0.04, 0.1, 0.12]))
    np.testing.assert_allclose(ends, [0.04, 0.1, 0.12, 0.16])


def test_decode_keeps_the_stream_start(tmp_path):
    """Audio that starts 0.5 s into the container: the track's clock says so, and the samples match."""
    path = tmp_path / "late.mka"
    sine = (0.5 * np.sin(2 * np.pi * 440 * np.arange(RATE) / RATE)).astype(np.float32)
    with av.open(str(path), "w") as c:
        stream = c.add_stream("pcm_f32le", rate=RATE, layout="mono")
        frame = av.AudioFrame.from_ndarray(sine[None, :], format="flt", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = RATE, RATE // 2, Fraction(1, RATE)
        for packet in stream.encode(frame):
            c.mux(packet)
        for packet in stream.encode(None):
            c.mux(packet)
    track = decode_audio(path)
    assert track.start == pytest.approx(0.5, abs=1e-3) and track.rate == RATE
    np.testing.assert_allclose(track.samples[:RATE], sine, atol=1e-4)
