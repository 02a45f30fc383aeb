"""Live capture: cameras and files played as if they were cameras, behind a newest-frame mailbox.

Both sources follow the reader interface (:class:`vidstyle.io.reader.FrameSource`): ``info`` and
``frames()`` yielding :class:`~vidstyle.io.reader.Frame` (uint8 (H, W, 3) RGB). A
:class:`FrameGrabber` thread pulls them as they arrive and leaves only the newest one in a one-slot
:class:`Mailbox`: a frame replaced before the consumer took it is dropped, so a slow stylizer never
builds a queue and the latency stays about one frame time.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from vidstyle.errors import ResourceUnavailableError, UserInputError
from vidstyle.io.reader import Frame, VideoFileSource, VideoInfo

Clock = Callable[[], float]
CAMERA_TIME_BASE = Fraction(1, 1_000_000)  # camera pts are microseconds since the first frame


class CameraLostError(ResourceUnavailableError):
    """A camera that was delivering frames stopped (unplugged, taken by another program)."""


def parse_size(text: str | None) -> tuple[int, int] | None:
    """``"640x360"`` -> (640, 360); None stays None."""
    if text is None:
        return None
    w, sep, h = text.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit() or not (16 <= int(w) <= 8192 and 16 <= int(h) <= 8192):
        raise UserInputError(f"--size must be WxH with sides of 16 to 8192 pixels, like 640x360; got {text!r}")
    return int(w), int(h)


def parse_camera(text: str | int) -> int | str:
    """``--camera``: an index (``"0"``) or a device path (``"/dev/video2"``)."""
    if isinstance(text, int):
        return text
    return int(text) if text.strip().isdigit() else text


def _fit(image: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """(H, W, 3) uint8 -> (h, w, 3) uint8 at ``size=(w, h)`` (unchanged when None or already that size)."""
    if size is None or (image.shape[1], image.shape[0]) == size:
        return image
    shrink = size[0] * size[1] < image.shape[0] * image.shape[1]
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


class CameraSource:
    """A camera through ``cv2.VideoCapture`` (an index or a device path), frames as uint8 RGB.

    ``size=(w, h)`` is asked of the camera; frames of another size are resized to it, so what follows
    sees one constant size. ``pts`` are microseconds since the first frame.
    """

    def __init__(self, camera: int | str = 0, *, size: tuple[int, int] | None = None) -> None:
        self.camera = parse_camera(camera)
        self.label = f"index {self.camera}" if isinstance(self.camera, int) else str(self.camera)
        self._capture = self._open(size)
        width = int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.size = size or (width, height)
        rate = self._capture.get(cv2.CAP_PROP_FPS) or 30.0
        self.info = VideoInfo(path=Path(str(self.camera)), width=self.size[0], height=self.size[1],
                              time_base=CAMERA_TIME_BASE, frame_rate=Fraction(rate).limit_denominator(1001),
                              frame_count=None)

    def _open(self, size: tuple[int, int] | None) -> cv2.VideoCapture:
        if isinstance(self.camera, str) and not Path(self.camera).exists():
            raise ResourceUnavailableError(f"no camera at {self.camera}: no such device "
                                           "(use --camera N or --source FILE)")
        # On Linux ask V4L2 only: the other backends print several lines of warnings when nothing is
        # there. OpenCV's own log is silenced while opening; the error below says what happened.
        api = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
        level = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
        try:
            capture = cv2.VideoCapture(self.camera, api)
            if capture.isOpened() and size is not None:
                capture.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
                capture.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
        finally:
            cv2.utils.logging.setLogLevel(level)
        if not capture.isOpened():
            raise ResourceUnavailableError(f"no camera at {self.label} (OpenCV could not open it; "
                                           "use --camera N|/dev/videoN or --source FILE)")
        return capture

    def frames(self) -> Iterator[Frame]:
        index, first = 0, None
        try:
            while True:
                ok, bgr = self._capture.read()
                now = time.monotonic()
                if not ok or bgr is None:
                    if index == 0:
                        raise ResourceUnavailableError(f"the camera at {self.label} opened but delivers no frames")
                    raise CameraLostError(f"the camera at {self.label} stopped delivering frames after "
                                          f"{index} frames (unplugged?)")
                first = now if first is None else first
                image = _fit(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), self.size)
                yield Frame(image, int(round((now - first) * 1_000_000)), index)
                index += 1
        finally:
            self._capture.release()


class FileCameraSource:
    """A video file played at its own frame rate as if it were a camera (demos and tests).

    Frames are released when their pts comes due on the wall clock, measured from the first frame;
    ``realtime=False`` releases them as fast as they decode. ``size=(w, h)`` resizes every frame.
    """

    def __init__(self, path: Path, *, size: tuple[int, int] | None = None, realtime: bool = True,
                 clock: Clock = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.file = VideoFileSource(Path(path))
        self.label = str(path)
        self.size = size or (self.file.info.width, self.file.info.height)
        self.realtime = realtime
        self._clock, self._sleep = clock, sleep
        info = self.file.info
        self.info = VideoInfo(path=info.path, width=self.size[0], height=self.size[1], time_base=info.time_base,
                              frame_rate=info.frame_rate, frame_count=info.frame_count, color=info.color)

    def frames(self) -> Iterator[Frame]:
        tb = float(self.info.time_base)
        start = None
        for frame in self.file.frames():
            if self.realtime:
                if start is None:
                    start = self._clock()
                wait = start + frame.pts * tb - self._clock()
                if wait > 0:
                    self._sleep(wait)
            yield Frame(_fit(frame.image, self.size), frame.pts, frame.index)


def open_capture(*, camera: int | str | None = None, source: Path | None = None,
                 size: tuple[int, int] | None = None) -> CameraSource | FileCameraSource:
    """``--camera`` or ``--source`` (not both; neither means camera 0)."""
    if camera is not None and source is not None:
        raise UserInputError("give either --camera or --source, not both")
    if source is not None:
        return FileCameraSource(source, size=size)
    return CameraSource(0 if camera is None else camera, size=size)


@dataclass(frozen=True)
class CapturedFrame:
    """A frame as it arrived: ``image`` (H, W, 3) uint8 RGB; ``captured_at``: clock seconds on arrival;
    ``number``: 0-based count of frames the grabber delivered."""

    image: np.ndarray
    captured_at: float
    number: int


class Mailbox:
    """A one-slot, newest-wins hand-over between the capture thread and the consumer.

    ``put`` replaces an untaken frame; ``put_count`` counts every frame put. ``take`` waits for a
    frame. The producer ends it with ``close(error)``; after that ``take`` returns what is left, then
    None, and ``finished`` is true.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._slot: CapturedFrame | None = None
        self.put_count = 0
        self.closed = False
        self.error: BaseException | None = None

    def __len__(self) -> int:
        with self._cond:
            return int(self._slot is not None)

    def put(self, item: CapturedFrame) -> None:
        with self._cond:
            self._slot = item
            self.put_count += 1
            self._cond.notify_all()

    def take(self, timeout: float | None = None) -> CapturedFrame | None:
        """The newest frame, waiting up to ``timeout`` seconds; None on timeout or when finished."""
        with self._cond:
            if self._slot is None and not self.closed:
                self._cond.wait(timeout)
            item, self._slot = self._slot, None
            return item

    def close(self, error: BaseException | None = None) -> None:
        with self._cond:
            self.closed = True
            self.error = error
            self._cond.notify_all()

    @property
    def finished(self) -> bool:
        """Closed by the producer and nothing left to take."""
        with self._cond:
            return self.closed and self._slot is None

    def discard(self) -> int:
        """Empty the slot (at shutdown). Returns how many frames were left (0 or 1)."""
        with self._cond:
            left = int(self._slot is not None)
            self._slot = None
            return left


class FrameGrabber(threading.Thread):
    """Pull frames from ``source`` in a daemon thread and post each into ``mailbox``, stamped with
    ``clock()`` on arrival. The mailbox is closed when the source ends or fails (with the error)."""

    def __init__(self, source, mailbox: Mailbox, *, clock: Clock = time.monotonic) -> None:
        super().__init__(name="vidstyle-capture", daemon=True)
        self.source, self.mailbox, self.clock = source, mailbox, clock
        self._stop_event = threading.Event()

    def run(self) -> None:
        error: BaseException | None = None
        frames = self.source.frames()
        number = 0
        try:
            for frame in frames:
                if self._stop_event.is_set():
                    break
                self.mailbox.put(CapturedFrame(frame.image, self.clock(), number))
                number += 1
                if self._stop_event.is_set():
                    break
        except Exception as exc:  # handed to the consumer, which reports it in one line
            error = exc
        finally:
            close = getattr(frames, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    pass
            self.mailbox.close(error)

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the thread to stop after the frame it is waiting for, and wait for it."""
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout)
