"""Where a live session sends its frames besides the window: a recording and a virtual camera."""

from __future__ import annotations

from contextlib import ExitStack
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import numpy as np

from vidstyle.errors import ResourceUnavailableError
from vidstyle.io.atomic import temp_path_for
from vidstyle.io.reader import VideoInfo
from vidstyle.io.assemble import assemble_video
from vidstyle.io.writer import EncodeSettings, SegmentEncoder, segment_suffix


class FrameSink(Protocol):
    """Receives each shown frame: (H, W, 3) uint8 RGB and its capture time in clock seconds."""

    def write(self, image: np.ndarray, captured_at: float) -> None: ...


class VideoRecorder:
    """Record shown frames with pts from their capture time (variable frame rate), H.264 by default.

    Encoded the way ``vidstyle run`` encodes (:class:`~vidstyle.io.writer.SegmentEncoder` into a hidden
    segment beside the output, then :func:`~vidstyle.io.assemble.assemble_video` into the output's
    container, written atomically). Finalised on exit, also when the loop ended by a camera failure
    or Ctrl-C; only a failure of the encoder itself (or no frame at all) leaves no file.
    """

    TIME_BASE = Fraction(1, 1000)  # milliseconds

    def __init__(self, path: Path, size: tuple[int, int], *, rate: float = 30.0,
                 encode: EncodeSettings = EncodeSettings(crf=20, preset="veryfast")) -> None:
        self.path = Path(path)
        self.encode = encode
        self.frames = 0
        self._segment = temp_path_for(self.path).with_suffix(segment_suffix(encode.codec))
        # The segment is the only source: there is no audio to carry over.
        self.info = VideoInfo(path=self._segment, width=size[0], height=size[1], time_base=self.TIME_BASE,
                              frame_rate=Fraction(rate).limit_denominator(1001), frame_count=None)
        self._encoder = ExitStack()
        self._writer: SegmentEncoder | None = None
        self._first: float | None = None
        self._last_pts = -1

    def __enter__(self) -> "VideoRecorder":
        return self

    def write(self, image: np.ndarray, captured_at: float) -> None:
        if self._writer is None:  # opened on the first frame: no frame, no file
            self._writer = self._encoder.enter_context(SegmentEncoder(self._segment, self.info, self.encode))
        self._first = captured_at if self._first is None else self._first
        pts = max(int(round((captured_at - self._first) / self.TIME_BASE)), self._last_pts + 1)
        self._writer.write(image, pts)
        self._last_pts = pts
        self.frames += 1

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self._encoder.close()  # flushes the encoder, whatever ended the loop
            if self.frames:
                assemble_video([self._segment], [0], self.path, self.info, codec=self.encode.codec, first_time=0.0,
                               last_pts=self._last_pts)
        finally:
            self._segment.unlink(missing_ok=True)


class VirtualCamera:
    """Send shown frames to a virtual camera (pyvirtualcam: v4l2loopback, OBS, Unity Capture)."""

    def __init__(self, size: tuple[int, int], fps: float) -> None:
        try:
            import pyvirtualcam
        except ImportError:
            raise ResourceUnavailableError(
                "--virtual-cam needs pyvirtualcam: pip install 'vidstyle[virtualcam]'") from None
        try:
            self._camera = pyvirtualcam.Camera(width=size[0], height=size[1], fps=fps,
                                               fmt=pyvirtualcam.PixelFormat.RGB)
        except (RuntimeError, ValueError, OSError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ResourceUnavailableError(
                f"no virtual camera device ({first}); on Linux load v4l2loopback "
                "(sudo modprobe v4l2loopback exclusive_caps=1), elsewhere install OBS") from None

    def write(self, image: np.ndarray, captured_at: float) -> None:
        self._camera.send(np.ascontiguousarray(image))

    def __enter__(self) -> "VirtualCamera":
        return self

    def __exit__(self, *exc) -> None:
        self._camera.close()
