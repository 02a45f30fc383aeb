"""vidstyle.io.camera: the camera source (a fake cv2.VideoCapture), a file played as a camera, the
newest-frame mailbox and the capture thread. No camera is needed and no test asserts a time."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from vidstyle.errors import ResourceUnavailableError, UserInputError
from vidstyle.io.camera import (
    CameraLostError, CameraSource, CapturedFrame, FileCameraSource, FrameGrabber, Mailbox, open_capture,
    parse_camera, parse_size,
)
from vidstyle.io.reader import Frame, VideoInfo
from vidstyle.synth import synth_frames

W, H = 160, 96  # the size of conftest's clip16


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    """What conftest's ``clip16`` holds, before encoding."""
    return synth_frames(16, W, H)


@pytest.fixture
def clip(clip16) -> Path:
    return clip16


def _captured(number: int) -> CapturedFrame:
    return CapturedFrame(np.full((2, 2, 3), number, np.uint8), float(number), number)


class FakeCapture:
    """cv2.VideoCapture stand-in: ``images`` (BGR) one per read, then failures; reports ``size``."""

    def __init__(self, images: list[np.ndarray], size: tuple[int, int] = (W, H)) -> None:
        self.images, self.size, self.released = list(images), size, False

    def isOpened(self) -> bool:
        return True

    def set(self, prop, value) -> bool:
        return True

    def get(self, prop) -> float:
        return {cv2.CAP_PROP_FRAME_WIDTH: self.size[0], cv2.CAP_PROP_FRAME_HEIGHT: self.size[1],
                cv2.CAP_PROP_FPS: 30.0}.get(prop, 0.0)

    def read(self):
        return (True, self.images.pop(0)) if self.images else (False, None)

    def release(self) -> None:
        self.released = True


def _camera(monkeypatch, capture: FakeCapture, **kwargs) -> CameraSource:
    monkeypatch.setattr(cv2, "VideoCapture", lambda *args: capture)
    return CameraSource(0, **kwargs)


class FailingSource:
    """Delivers ``frames`` and then raises ``error``: a camera unplugged mid-stream."""

    def __init__(self, frames: list[np.ndarray], error: Exception) -> None:
        self.images, self.error = frames, error
        self.info = VideoInfo(path=Path("fake"), width=W, height=H, time_base=Fraction(1, 24),
                              frame_rate=Fraction(24), frame_count=None)

    def frames(self):
        yield from (Frame(image, i, i) for i, image in enumerate(self.images))
        raise self.error


class TestParse:
    def test_size(self):
        assert parse_size("640x360") == (640, 360) and parse_size(None) is None
        for bad in ("640", "8x8", "axb"):
            with pytest.raises(UserInputError, match="WxH"):
                parse_size(bad)

    def test_camera(self):
        assert parse_camera("2") == 2 and parse_camera("/dev/video1") == "/dev/video1" and parse_camera(3) == 3

    def test_camera_and_source_together(self, clip):
        with pytest.raises(UserInputError, match="either --camera or --source"):
            open_capture(camera=0, source=clip)


class TestCameraSource:
    def test_missing_device_path(self):
        with pytest.raises(ResourceUnavailableError, match="no camera at /dev/vidstyle-none"):
            CameraSource("/dev/vidstyle-none")

    def test_frames_are_rgb_with_microsecond_pts(self, monkeypatch, frames):
        capture = FakeCapture([f[..., ::-1].copy() for f in frames[:3]])
        source = _camera(monkeypatch, capture)
        got = []
        with pytest.raises(CameraLostError, match="stopped delivering frames after 3 frames"):
            for frame in source.frames():
                got.append(frame)
        assert [f.index for f in got] == [0, 1, 2]
        assert all(np.array_equal(g.image, f) for g, f in zip(got, frames))  # BGR -> RGB, unchanged
        assert got[0].pts == 0 and got[0].pts <= got[1].pts <= got[2].pts
        assert source.info.time_base == Fraction(1, 1_000_000) and source.info.frame_rate == 30
        assert capture.released  # the end of the source releases the camera

    def test_no_frame_at_all_is_not_a_lost_camera(self, monkeypatch):
        source = _camera(monkeypatch, FakeCapture([]))
        with pytest.raises(ResourceUnavailableError, match="opened but delivers no frames") as exc:
            next(source.frames())
        assert not isinstance(exc.value, CameraLostError)

    def test_other_size_is_resized_to_the_asked_one(self, monkeypatch, frames):
        big = cv2.resize(frames[0], (2 * W, 2 * H), interpolation=cv2.INTER_NEAREST)
        source = _camera(monkeypatch, FakeCapture([big[..., ::-1].copy()], size=(2 * W, 2 * H)), size=(W, H))
        image = next(source.frames()).image
        assert (source.info.width, source.info.height) == (W, H) and image.shape == (H, W, 3)
        assert np.abs(image.astype(int) - frames[0]).mean() < 3  # an area resize of the pixel-doubled frame


class TestFileCameraSource:
    def test_every_frame_then_the_end(self, clip, frames):
        source = FileCameraSource(clip, size=(48, 32), realtime=False)
        got = list(source.frames())
        assert len(got) == len(frames) and got[0].image.shape == (32, 48, 3)
        assert [f.index for f in got] == list(range(len(frames)))
        assert (source.info.width, source.info.height) == (48, 32)

    def test_realtime_waits_for_each_pts(self, clip, frames):
        now, sleeps = [100.0], []

        def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            now[0] += seconds

        source = FileCameraSource(clip, clock=lambda: now[0], sleep=sleep)
        got = list(source.frames())
        tb = float(source.info.time_base)
        # The first frame is due at once; each later one waits until its pts on the (fake) wall clock.
        assert len(sleeps) == len(got) - 1
        assert now[0] - 100.0 == pytest.approx(got[-1].pts * tb)
        assert sum(sleeps) == pytest.approx((len(frames) - 1) / 24, abs=1e-3)


class TestMailbox:
    def test_newest_wins(self):
        box = Mailbox()
        for i in range(3):
            box.put(_captured(i))
        assert len(box) == 1 and box.put_count == 3
        assert box.take(0).number == 2
        assert box.take(0) is None and len(box) == 0

    def test_close_then_finished(self):
        box = Mailbox()
        box.put(_captured(0))
        box.close(CameraLostError("gone"))
        assert not box.finished  # the last frame can still be taken
        assert box.take(0).number == 0
        assert box.finished and isinstance(box.error, CameraLostError)
        assert box.take(0) is None

    def test_discard_empties_the_slot(self):
        box = Mailbox()
        assert box.discard() == 0
        box.put(_captured(0))
        assert box.discard() == 1 and len(box) == 0 and box.take(0) is None


class TestFrameGrabber:
    def test_consumer_gets_the_newest_frame(self, clip, frames):
        # The consumer takes nothing until the source has ended: only the last frame is left to take.
        box = Mailbox()
        grabber = FrameGrabber(FileCameraSource(clip, realtime=False), box, clock=lambda: 7.0)
        grabber.start()
        grabber.join(30)
        assert box.closed and box.error is None and box.put_count == len(frames)
        item = box.take(0)
        assert item.number == len(frames) - 1 and item.captured_at == 7.0
        last = list(FileCameraSource(clip, realtime=False).frames())[-1].image
        assert np.array_equal(item.image, last)
        assert box.take(0) is None and box.finished

    def test_source_failure_closes_with_the_error(self, frames):
        box = Mailbox()
        grabber = FrameGrabber(FailingSource(frames[:3], CameraLostError("unplugged")), box)
        grabber.start()
        grabber.join(10)
        assert box.closed and isinstance(box.error, CameraLostError) and box.put_count == 3
        assert box.take(0).number == 2
