"""Per-frame audio features at the video frames' own times: rms, onset, beat, low, mid, high.

Onset strength and beat tracking come from librosa (spectral-flux onsets, Ellis's dynamic-programming
beat tracker): well-tested, maintained, and what music-information-retrieval work uses. Every feature is
computed on librosa's analysis frames (``HOP`` samples), then gathered into each video frame's display
interval ``[t_i, t_i+1)`` taken from the video's pts, so a 60 s or VFR clip does not drift.
"""

from __future__ import annotations

import numpy as np

from vidstyle.audio.decode import AudioTrack
from vidstyle.audio.spec import FEATURES
from vidstyle.errors import UserInputError

# 1024-sample windows (46 ms at 22.05 kHz) every 256 samples: librosa's onset envelope peaks ~12 ms after
# a hit with these (~25 ms with its 2048/512 defaults), well inside a frame at 30 or 60 fps.
HOP = 256
N_FFT = 1024
BANDS = {"low": (0.0, 200.0), "mid": (200.0, 2000.0), "high": (2000.0, 1e9)}  # Hz


def frame_intervals(frame_times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts, ends) seconds of each frame's display interval; the last lasts the median frame length."""
    t = np.asarray(frame_times, dtype=np.float64)
    step = float(np.median(np.diff(t))) if len(t) > 1 else 1.0 / 30.0
    return t, np.append(t[1:], t[-1] + step)


def _gather(series: np.ndarray, times: np.ndarray, starts: np.ndarray, ends: np.ndarray, how: str) -> np.ndarray:
    """Reduce an analysis-frame ``series`` at ``times`` over each [start, end): ``mean`` or ``max``;
    an interval holding no analysis frame takes the value interpolated at its start."""
    lo = np.searchsorted(times, starts, side="left")
    hi = np.searchsorted(times, ends, side="left")
    out = np.interp(starts, times, series)
    reduce = np.max if how == "max" else np.mean
    for i in np.flatnonzero(hi > lo):
        out[i] = reduce(series[lo[i]:hi[i]])
    return out


def normalise(x: np.ndarray) -> np.ndarray:
    """Min-max to 0..1 over the clip; a flat signal becomes all zeros."""
    lo, hi = float(np.min(x)), float(np.max(x))
    return np.zeros_like(x) if hi - lo < 1e-12 else (x - lo) / (hi - lo)


def onset_envelope(track: AudioTrack) -> tuple[np.ndarray, np.ndarray]:
    """(envelope, source-clock times): librosa's onset strength (spectral flux of a log-mel spectrogram),
    one value per ``HOP`` samples. A sound already playing on the first sample is no onset (nothing
    before it to differ from); a lead-in of silence would turn any noise floor into the clip's loudest
    onset, because the flux is measured in decibels."""
    import librosa

    env = librosa.onset.onset_strength(y=track.samples, sr=track.rate, hop_length=HOP, n_fft=N_FFT)
    return env, track.times(HOP, len(env))


def beat_times(track: AudioTrack, onsets: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[float, np.ndarray]:
    """(tempo in BPM, beat times in source-clock seconds) from librosa's beat tracker."""
    import librosa

    env, times = onset_envelope(track) if onsets is None else onsets
    tempo, beats = librosa.beat.beat_track(onset_envelope=env, sr=track.rate, hop_length=HOP, units="frames")
    return float(np.atleast_1d(tempo)[0]), times[np.asarray(beats, dtype=np.int64)]


def audio_features(track: AudioTrack, frame_times: np.ndarray, names: tuple[str, ...] = FEATURES
                   ) -> dict[str, np.ndarray]:
    """{feature: (F,) float64 in 0..1} for frames at ``frame_times`` (source-clock seconds, increasing).

    ``beat`` is 1 on the frame whose interval holds a tracked beat and 0 elsewhere; the others are the
    mean (rms, bands) or peak (onset) over the frame's interval, normalised over the clip.
    """
    import librosa

    unknown = [n for n in names if n not in FEATURES]
    if unknown:
        raise UserInputError(f"unknown audio feature {unknown[0]!r}: use one of {', '.join(FEATURES)}")
    if len(track.samples) < N_FFT:
        raise UserInputError("the audio is too short to analyse (under 0.1 s)")
    y, sr = track.samples, track.rate
    starts, ends = frame_intervals(frame_times)
    out: dict[str, np.ndarray] = {}
    onsets = onset_envelope(track) if "onset" in names or "beat" in names else None
    if "onset" in names:
        out["onset"] = normalise(_gather(*onsets, starts, ends, "max"))
    if "beat" in names:
        _, beats = beat_times(track, onsets)
        beat = np.zeros(len(starts))
        idx = np.searchsorted(starts, beats, side="right") - 1
        keep = (idx >= 0) & (beats < ends[np.clip(idx, 0, len(ends) - 1)])
        beat[idx[keep]] = 1.0
        out["beat"] = beat
    if "rms" in names:
        rms = librosa.feature.rms(y=y, frame_length=N_FFT, hop_length=HOP)[0]
        out["rms"] = normalise(_gather(rms, track.times(HOP, len(rms)), starts, ends, "mean"))
    bands = [n for n in names if n in BANDS]
    if bands:
        power = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP)) ** 2
        freqs = librosa.fft_frequencies(sr=sr, n_fft=N_FFT)
        times = track.times(HOP, power.shape[1])
        for name in bands:
            lo, hi = BANDS[name]
            energy = np.sqrt(power[(freqs >= lo) & (freqs < hi)].sum(axis=0))
            out[name] = normalise(_gather(energy, times, starts, ends, "mean"))
    return {n: out[n] for n in names}
