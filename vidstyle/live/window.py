"""Where a live session shows its frames: an OpenCV window with an overlay, or nothing."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Protocol

import cv2
import numpy as np

from vidstyle.errors import ResourceUnavailableError

WINDOW_TITLE = "vidstyle webcam"

class Display(Protocol):
    """Where frames are shown. ``show`` and ``poll`` return a key code, or -1 for none."""

    def show(self, image: np.ndarray, lines: Sequence[str]) -> int: ...

    def poll(self) -> int: ...


class NullDisplay:
    """``--no-window``: shows nothing, reads no keys."""

    def show(self, image: np.ndarray, lines: Sequence[str]) -> int:
        return -1

    def poll(self) -> int:
        return -1


def opencv_gui(build_information: str | None = None) -> str | None:
    """The GUI backend this OpenCV build has (``"GTK3"``, ``"QT5"``...), or None for a headless build.

    Read from the ``GUI:`` line of ``cv2.getBuildInformation()`` (or of ``build_information``).
    """
    info = cv2.getBuildInformation() if build_information is None else build_information
    gui = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.strip().startswith("GUI:")), "")
    return None if gui.upper() in ("", "NONE") else gui


def window_unavailable_reason() -> str | None:
    """Why an OpenCV (highgui) window cannot open here, or None when it can be tried."""
    if opencv_gui() is None:
        return "this OpenCV build has no GUI support (opencv-python-headless?)"
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "no display ($DISPLAY is not set)"
    return None


class OpenCVWindow:
    """An OpenCV highgui window with an fps/latency overlay; closing the window counts as ``q``."""

    def __init__(self, title: str = WINDOW_TITLE) -> None:
        reason = window_unavailable_reason()
        if reason is None:
            try:
                cv2.namedWindow(title, cv2.WINDOW_AUTOSIZE)
            except cv2.error as exc:
                reason = f"OpenCV cannot open a window ({str(exc).strip().splitlines()[-1]})"
        if reason is not None:
            raise ResourceUnavailableError(f"no window: {reason}; use --no-window (with --output or "
                                           "--virtual-cam to see the result)")
        self.title = title

    def show(self, image: np.ndarray, lines: Sequence[str]) -> int:
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        for i, line in enumerate(lines):
            y = 20 + 20 * i
            cv2.putText(bgr, line, (8, y), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
            cv2.putText(bgr, line, (8, y), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
        cv2.imshow(self.title, bgr)
        return self.poll()

    def poll(self) -> int:
        key = cv2.waitKey(1)
        if cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1:
            return ord("q")
        return key

    def __enter__(self) -> "OpenCVWindow":
        return self

    def __exit__(self, *exc) -> None:
        cv2.destroyWindow(self.title)
        cv2.waitKey(1)
