"""The times of the frames a render will paint, read from the container without decoding pictures."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidstyle.errors import UserInputError
from vidstyle.io.reader import open_source
from vidstyle.io.sequence import find_sequence, is_pattern


@dataclass(frozen=True)
class Timeline:
    """``times``: (F,) seconds of each rendered frame from the first one (from pts, so VFR-exact);
    ``origin``: source-clock seconds of frame 0 (where the audio is read); ``fps``: nominal rate."""

    path: Path
    times: np.ndarray
    origin: float
    fps: float
    has_audio: bool
    window: tuple[float | None, float | None, int | None] = (None, None, None)

    @property
    def frames(self) -> int:
        return len(self.times)

    @property
    def source_times(self) -> np.ndarray:
        return self.origin + self.times

    def images(self) -> Iterator[np.ndarray]:
        """The rendered frames' pictures, (H, W, 3) uint8 RGB (decoded; used by the shot detector)."""
        start, end, max_frames = self.window
        source = open_source(self.path, fps=self.fps, start=start, end=end, max_frames=max_frames)
        for frame in source.frames():
            yield frame.image


def _windowed(seconds: np.ndarray, start: float | None, end: float | None, max_frames: int | None) -> np.ndarray:
    keep = seconds[(seconds >= (start or 0.0) - 1e-6) if start is not None else slice(None)]
    if end is not None:
        keep = keep[keep < end - 1e-6]
    return keep[:max_frames] if max_frames else keep


def probe_timeline(path: str | Path, *, fps: float = 24.0, start: float | None = None, end: float | None = None,
                   max_frames: int | None = None) -> Timeline:
    """Frame times of a video file (demuxed packet pts, sorted) or an image sequence (index / ``fps``)."""
    import av

    path = Path(path)
    window = (start, end, max_frames)
    if is_pattern(path) or path.is_dir():
        count = len(find_sequence(path).paths)
        seconds = _windowed(np.arange(count) / fps, start, end, max_frames)
        has_audio = False
        rate = fps
    else:
        if not path.is_file():
            raise UserInputError(f"input not found: {path}")
        try:
            with av.open(str(path)) as container:
                if not container.streams.video:
                    raise UserInputError(f"{path} has no video stream")
                stream = container.streams.video[0]
                pts = sorted({p.pts for p in container.demux(stream) if p.pts is not None})
                tb = float(stream.time_base)
                rate = float(stream.average_rate or stream.guessed_rate or 24)
                has_audio = bool(container.streams.audio)
        except av.FFmpegError as exc:
            raise UserInputError(f"cannot read {path}: not a video or damaged ({exc.strerror or exc})") from None
        seconds = _windowed(np.array(pts, dtype=np.float64) * tb, start, end, max_frames)
    if len(seconds) == 0:
        raise UserInputError(f"no frames of {path} fall in the requested --start/--end range")
    return Timeline(path, seconds - seconds[0], float(seconds[0]), rate, has_audio, window)
