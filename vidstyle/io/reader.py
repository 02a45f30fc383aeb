"""Frame sources: PyAV-decoded video files and numbered image sequences, streamed in constant memory.

A source yields :class:`Frame` objects (uint8 (H, W, 3) RGB as coded, i.e. before display rotation,
with their pts), and describes itself with :class:`VideoInfo`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from vidstyle.errors import DamagedInputError, UserInputError
from vidstyle.io.damage import DamageReport, TolerantDecoder
from vidstyle.io.sequence import find_sequence, is_pattern


@dataclass(frozen=True)
class ColorInfo:
    """FFmpeg colour tags of the input (ints as in libavutil's enums); 2 means unspecified."""

    colorspace: int = 2
    primaries: int = 2
    trc: int = 2
    range: int = 0


@dataclass(frozen=True)
class VideoInfo:
    """What a source knows about itself before decoding. ``rotation``: counter-clockwise degrees."""

    path: Path
    width: int
    height: int
    time_base: Fraction
    frame_rate: Fraction
    frame_count: int | None
    rotation: int = 0
    color: ColorInfo = field(default_factory=ColorInfo)
    is_sequence: bool = False
    first_number: int = 1
    has_audio: bool = False


@dataclass
class Frame:
    """One decoded frame. ``image``: (H, W, 3) uint8 RGB; ``pts`` in ``time_base`` units, from 0 at
    the first frame the render keeps; ``index``: 0-based position in the render."""

    image: np.ndarray
    pts: int
    index: int


class FrameSource(Protocol):
    """``first_time``: seconds, in the source's own clock, of the first frame ``frames`` yielded (None
    before decoding); the output's audio is cut to the same range."""

    info: VideoInfo
    first_time: float | None

    def frames(self, start: int = 0) -> Iterator[Frame]:
        """Frames from render index ``start`` on (seeking, not decoding the ones before, where it can)."""
        ...

    def count_frames(self) -> int:
        """The exact number of frames the render keeps (may scan the file, not decode it)."""
        ...


def parse_time(value: str | float | None) -> float | None:
    """Seconds from ``12.5`` or ``HH:MM:SS.mmm`` / ``MM:SS``; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        try:
            parts = [float(p) for p in str(value).split(":")]
        except ValueError:
            raise UserInputError(f"bad time {value!r}: use seconds (12.5) or HH:MM:SS.mmm") from None
        if len(parts) > 3:
            raise UserInputError(f"bad time {value!r}: use seconds (12.5) or HH:MM:SS.mmm")
        seconds = 0.0
        for p in parts:
            seconds = seconds * 60 + p
    if seconds < 0:
        raise UserInputError(f"time must not be negative, got {value!r}")
    return seconds


def _normalise_rotation(degrees: float | int | None) -> int:
    return int(round((degrees or 0) / 90.0)) * 90 % 360


@dataclass
class _Window:
    """Which frames of the source the render keeps: [start, end) seconds and at most ``max_frames``."""

    start: float | None = None
    end: float | None = None
    max_frames: int | None = None

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise UserInputError(f"--end ({self.end}s) must be after --start ({self.start}s)")
        if self.max_frames is not None and self.max_frames < 1:
            raise UserInputError(f"--max-frames must be at least 1, got {self.max_frames}")


class VideoFileSource:
    """Decode a video file with PyAV (threaded decoding), keeping pts, rotation and colour tags.

    Like ffmpeg, decoding goes on past packets the demuxer or decoder rejects; ``damage`` counts them
    and the frames lost. With ``strict`` the first damage is an error. No decodable frame is an error.
    """

    def __init__(self, path: Path, *, start: float | None = None, end: float | None = None,
                 max_frames: int | None = None, strict: bool = False) -> None:
        self.path = Path(path)
        self.window = _Window(start, end, max_frames)
        self.first_time: float | None = None
        self.frames_decoded = 0  # frames decoded so far, kept or not (seeking keeps this low)
        self._pts: list[int] | None = None
        self._decoder = TolerantDecoder(self.path, strict)
        self.damage = DamageReport()  # of the last frames() iteration
        if not self.path.exists():
            raise UserInputError(f"input not found: {self.path}")
        if self.path.is_dir():
            raise UserInputError(f"input is a folder with no numbered images: {self.path}")
        with self._decoder.open() as container:
            if not container.streams.video:
                raise UserInputError(f"{self.path} has no video stream")
            stream = container.streams.video[0]
            first = next(self._decoder.frames(container, stream, DamageReport()), None)
            if first is None:
                raise DamagedInputError(f"{self.path} has no decodable video frames")
            rate = stream.average_rate or stream.guessed_rate or Fraction(24)
            count = stream.frames or None
            if count is None and container.duration:
                count = int(container.duration / 1_000_000 * rate)
            self.info = VideoInfo(
                path=self.path, width=first.width, height=first.height,
                time_base=Fraction(stream.time_base or Fraction(1, 90000)), frame_rate=Fraction(rate),
                frame_count=count, rotation=_normalise_rotation(first.rotation),
                color=ColorInfo(int(first.colorspace or 2), int(first.color_primaries or 2),
                                int(first.color_trc or 2), int(first.color_range or 0)),
                has_audio=bool(container.streams.audio),
            )

    def window_pts(self) -> list[int]:
        """pts of every frame the render keeps, in display order, from the packets (nothing decoded;
        unreadable packets are skipped, as decoding skips them)."""
        if self._pts is None:
            window, tb = self.window, self.info.time_base
            with self._decoder.open() as container:
                stream = container.streams.video[0]
                pts = sorted(p.pts for p in self._decoder.packets(container, stream, DamageReport())
                             if p.pts is not None and p.size)
            keep = [p for p in pts if (window.start is None or float(p * tb) >= window.start - 1e-6)
                    and (window.end is None or float(p * tb) < window.end - 1e-6)]
            self._pts = keep[:window.max_frames] if window.max_frames else keep
            if self._pts:
                self.first_time = float(self._pts[0] * tb)
        return self._pts

    def count_frames(self) -> int:
        return len(self.window_pts())

    def _decode_from(self, container, stream, target: int | None, damage: DamageReport) -> Iterator:
        """Decoded frames from the keyframe at or before pts ``target`` (from the start when None).

        A demuxer seeks by decoding time, so the keyframe found may show after ``target`` (B-frames):
        then it seeks a second further back, doubling, until the first frame shows at or before it.
        """
        back = 0
        lowest = self.window_pts()[0] if target is not None else 0
        while True:
            if target is not None:
                container.seek(max(target - back, lowest), stream=stream, backward=True)
            elif self.window.start:
                container.seek(int(self.window.start / self.info.time_base), stream=stream, backward=True)
            decoded = self._decoder.frames(container, stream, damage)
            first = next(decoded, None)
            if first is None or target is None or first.pts is None or first.pts <= target \
                    or target - back <= lowest:
                if first is not None:
                    yield first
                yield from decoded
                return
            back = max(2 * back, int(1 / self.info.time_base))

    def frames(self, start: int = 0) -> Iterator[Frame]:
        """Frames from render index ``start`` on, seeking to the ``start``-th packet's pts. Damaged
        packets are skipped and counted in ``self.damage``. Indices count decoded frames, so after
        frames lost to damage a seek lands early (:class:`vidstyle.pipeline.cursor.FrameCursor` skips
        the frames a resumed render already has)."""
        info, window = self.info, self.window
        tb = info.time_base
        first_pts: int | None = None
        target: int | None = None
        if start > 0:
            pts_list = self.window_pts()
            if start >= len(pts_list):
                return
            first_pts, target = pts_list[0], pts_list[start]
        damage = self.damage = DamageReport()
        with self._decoder.open() as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            index = start
            last_pts = -1
            for frame in self._decode_from(container, stream, target, damage):
                self.frames_decoded += 1
                pts = frame.pts if frame.pts is not None else last_pts + 1
                if pts <= last_pts:  # a damaged stream may repeat or reorder timestamps: keep them rising
                    damage.frames_lost += 1
                    continue
                last_pts = pts
                if target is not None and pts < target:
                    continue
                seconds = float(pts * tb)
                if window.start is not None and seconds < window.start - 1e-6:
                    continue
                if window.end is not None and seconds >= window.end - 1e-6:
                    break
                if first_pts is None:
                    first_pts = pts
                    self.first_time = seconds
                yield Frame(frame.to_ndarray(format="rgb24"), pts - first_pts, index)
                index += 1
                if window.max_frames and index >= window.max_frames:
                    break
        if index == start == 0:
            raise UserInputError(f"no frames of {self.path} fall in the requested --start/--end range")


class ImageSequenceSource:
    """Read a numbered image sequence at ``fps`` (pts = frame number from 0, time base 1/fps)."""

    def __init__(self, path: str | Path, *, fps: float = 24.0, start: float | None = None,
                 end: float | None = None, max_frames: int | None = None) -> None:
        self.sequence = find_sequence(path)
        self.window = _Window(start, end, max_frames)
        self.first_time: float | None = None
        if fps <= 0:
            raise UserInputError(f"--fps must be positive, got {fps}")
        rate = Fraction(fps).limit_denominator(1001)
        first = _read_image(self.sequence.paths[0])
        self.info = VideoInfo(
            path=Path(self.sequence.pattern), width=first.shape[1], height=first.shape[0],
            time_base=1 / rate, frame_rate=rate, frame_count=len(self.sequence.paths),
            is_sequence=True, first_number=self.sequence.first,
        )

    def _window_paths(self) -> tuple[Path, ...]:
        """The files the render keeps, first to last."""
        rate = float(self.info.frame_rate)
        lo = int(np.ceil((self.window.start or 0.0) * rate - 1e-6))
        self.first_time = lo / rate
        hi = len(self.sequence.paths)
        if self.window.end is not None:
            hi = min(hi, int(np.ceil(self.window.end * rate - 1e-6)))
        if self.window.max_frames:
            hi = min(hi, lo + self.window.max_frames)
        return self.sequence.paths[lo:hi]

    def count_frames(self) -> int:
        return len(self._window_paths())

    def frames(self, start: int = 0) -> Iterator[Frame]:
        """Frames from render index ``start`` on (a sequence seeks by index: no file before is read)."""
        paths = self._window_paths()
        index = start
        for p in paths[start:]:
            image = _read_image(p)
            if image.shape[:2] != (self.info.height, self.info.width):
                raise UserInputError(f"{p} is {image.shape[1]}x{image.shape[0]}, the sequence is "
                                     f"{self.info.width}x{self.info.height}")
            yield Frame(image, index, index)
            index += 1
        if index == start == 0:
            raise UserInputError(f"no frames of {self.info.path} fall in the requested --start/--end range")


def _read_image(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 RGB; 16-bit and EXR images are scaled to 8 bits (the float pixels are read again by
    :func:`vidstyle.io.images.read_image_float` where an output keeps them)."""
    if path.suffix.lower() == ".exr":
        from vidstyle.io.images import read_image_float

        rgb = read_image_float(path)
        rgb = rgb[:, :, :3] if rgb.shape[2] >= 3 else np.repeat(rgb, 3, axis=2)
        return np.round(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8)
    image = cv2.imread(str(path), cv2.IMREAD_COLOR | cv2.IMREAD_ANYDEPTH)
    if image is None:
        raise UserInputError(f"cannot read image {path}")
    if image.dtype == np.uint16:
        image = (image / 257.0).round().astype(np.uint8)
    elif image.dtype != np.uint8:
        image = np.clip(image * 255.0, 0, 255).astype(np.uint8)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_image(path: str | Path) -> np.ndarray:
    """Public single-image reader used by ``vidstyle image`` and style loading: (H, W, 3) uint8 RGB."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"image not found: {path}")
    return _read_image(path)


def open_source(path: str | Path, *, fps: float = 24.0, start: float | None = None,
                end: float | None = None, max_frames: int | None = None, strict: bool = False) -> FrameSource:
    """A video file, a printf pattern or a folder of numbered images."""
    p = Path(path)
    if is_pattern(p) or p.is_dir():
        return ImageSequenceSource(p, fps=fps, start=start, end=end, max_frames=max_frames)
    return VideoFileSource(p, start=start, end=end, max_frames=max_frames, strict=strict)
