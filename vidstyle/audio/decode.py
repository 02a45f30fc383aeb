"""Decode the input's first audio stream with PyAV to mono float samples on the source's clock."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidstyle.errors import UserInputError

ANALYSIS_RATE = 22050  # librosa's default rate: enough for onsets, beats and a 3-band split


@dataclass(frozen=True)
class AudioTrack:
    """``samples``: (N,) float32 mono in -1..1 at ``rate`` Hz; sample ``n`` plays at ``start + n / rate``
    seconds on the same clock as the video's pts (the container's clock)."""

    samples: np.ndarray
    rate: int
    start: float

    def times(self, hop: int, count: int) -> np.ndarray:
        """Source-clock seconds of ``count`` analysis frames ``hop`` samples apart (centred frames)."""
        return self.start + np.arange(count) * (hop / self.rate)

    def between(self, t0: float, t1: float) -> np.ndarray:
        """The samples from ``t0`` to ``t1`` source-clock seconds (at least one)."""
        first = max(0, int(round((t0 - self.start) * self.rate)))
        return self.samples[first:max(first + 1, int(round((t1 - self.start) * self.rate)))]


def decode_audio(path: str | Path, rate: int = ANALYSIS_RATE) -> AudioTrack:
    """The whole first audio stream, resampled to ``rate`` mono. Each decoded chunk is placed at its own
    pts, so gaps stay gaps and the sample clock never drifts from the video's pts."""
    import av

    path = Path(path)
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise UserInputError(f"{path} has no audio stream: --audio-react needs one")
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            chunks: list[tuple[float | None, np.ndarray]] = []
            for frame in container.decode(stream):
                when = float(frame.pts * frame.time_base) if frame.pts is not None else None
                for i, out in enumerate(resampler.resample(frame)):
                    chunks.append((when if i == 0 else None, out.to_ndarray().reshape(-1)))
            chunks.extend((None, out.to_ndarray().reshape(-1)) for out in resampler.resample(None))
    except av.FFmpegError as exc:
        raise UserInputError(f"cannot decode the audio of {path} ({exc.strerror or exc})") from None
    if not chunks:
        raise UserInputError(f"{path} has an audio stream with no decodable samples")
    start = next((w for w, _ in chunks if w is not None), 0.0)
    return AudioTrack(_place(chunks, start, rate), rate, start)


def _place(chunks: list[tuple[float | None, np.ndarray]], start: float, rate: int) -> np.ndarray:
    """Concatenate chunks; a chunk whose pts lies more than a few ms past the running end starts there."""
    pieces: list[np.ndarray] = []
    length = 0
    for when, data in chunks:
        if when is not None:
            at = int(round((when - start) * rate))
            if at > length + rate // 200:  # a real gap (> 5 ms): keep it silent
                pieces.append(np.zeros(at - length, np.float32))
                length = at
        pieces.append(data.astype(np.float32, copy=False))
        length += len(data)
    return np.concatenate(pieces)
