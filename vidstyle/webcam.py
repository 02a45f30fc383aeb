"""The live loop behind ``vidstyle webcam``: newest frame in, stylized frame out, a few times a second.

capture thread (:mod:`vidstyle.io.camera`) > one-slot mailbox > :class:`~vidstyle.processor.FrameProcessor`
(the same stylizers and flow + occlusion temporal filter as ``vidstyle run``) > window, recording,
virtual camera. The loop always takes the newest frame, so a slow stylizer drops frames instead of
falling behind, and :class:`AdaptiveSize` changes the processing size now and then to hold a target
frame rate. Keys act through :meth:`LiveControls.handle_key`, a plain method tests call directly.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import torch

from vidstyle.device import default_max_side
from vidstyle.errors import ResourceUnavailableError, UserInputError, VidstyleError
from vidstyle.files import check_output
from vidstyle.io.atomic import atomic_output, temp_path_for
from vidstyle.io.camera import CameraLostError, Clock, FrameGrabber, Mailbox, open_capture
from vidstyle.io.writer import EncodeSettings, check_output_container, padded_size, video_frame
from vidstyle.job import ProcessorSettings, build_processor
from vidstyle.processor import FrameProcessor
from vidstyle.stylize.base import Stylizer
from vidstyle.stylize.registry import StyleRequest

log = logging.getLogger("vidstyle")

MIN_SIDE = 96  # smallest processing size (long side) the adaptation goes down to
WINDOW_TITLE = "vidstyle webcam"


def live_cpu_threads() -> int:
    """Torch threads for the live loop on a CPU: all cores but one, which is left to capture (decoding)
    and encoding. Measured on 2 busy cores (benchmarks/webcam.py): CIN-26 + temporal filter at 320 px
    took a median ~100 ms a frame with 1 thread and ~600 ms with 2 (load average 6), the two threads
    waiting for each other at every layer whenever another process holds a core."""
    return max(1, (os.cpu_count() or 1) - 1)


# --------------------------------------------------------------------------------------------- stats

class LiveStats:
    """Frames shown and their latency (shown time - capture time), in clock seconds."""

    def __init__(self, recent: int = 30) -> None:
        self.shown = 0
        self.latencies_ms: list[float] = []
        self.first_shown: float | None = None
        self.last_shown: float | None = None
        self._recent: deque[float] = deque(maxlen=recent)
        self._recent_latency: deque[float] = deque(maxlen=recent)

    def record(self, captured_at: float, shown_at: float) -> None:
        self.shown += 1
        self.latencies_ms.append((shown_at - captured_at) * 1000.0)
        self.first_shown = shown_at if self.first_shown is None else self.first_shown
        self.last_shown = shown_at
        self._recent.append(shown_at)
        self._recent_latency.append(self.latencies_ms[-1])

    @property
    def fps(self) -> float:
        """Frames shown per second, from the first shown frame to the last."""
        if self.shown < 2 or self.last_shown == self.first_shown:
            return 0.0
        return (self.shown - 1) / (self.last_shown - self.first_shown)

    @property
    def recent_fps(self) -> float:
        """Frames per second over the last few frames (the overlay)."""
        if len(self._recent) < 2 or self._recent[-1] == self._recent[0]:
            return 0.0
        return (len(self._recent) - 1) / (self._recent[-1] - self._recent[0])

    @property
    def recent_latency_ms(self) -> float:
        """Median latency of the last few frames (the overlay)."""
        return float(np.median(self._recent_latency)) if self._recent_latency else 0.0

    def latency_ms(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else 0.0

    def summary(self, captured: int, dropped: int) -> dict:
        """The ``webcam --json`` object of CONTRACT.md."""
        return {"frames_captured": captured, "frames_shown": self.shown, "frames_dropped": dropped,
                "fps": round(self.fps, 3), "latency_ms_median": round(self.latency_ms(50), 1),
                "latency_ms_p95": round(self.latency_ms(95), 1)}


# ------------------------------------------------------------------------------------ adaptive size

class AdaptiveSize:
    """Change the processing size (long side) now and then so the work per frame fits ``target_fps``.

    Feed :meth:`observe` the seconds each frame took; after ``window`` frames (or ``max_wait`` seconds
    of them) it compares their median with the budget 1/target_fps and returns a new side, or None to
    keep the current one: it shrinks when frames take more than 1/1.1 of the budget and grows when they
    take less than 1/1.6 of it (the median hides slow frames, so it aims below the budget). Cost grows
    with the pixel count, so the side scales by 0.9 sqrt(budget / time), which lands inside that band;
    growth is capped at 25 % a step, rounded to ``step`` and held in [``min_side``, ``max_side``]. The
    first frame after a change (warm-up) is not measured.
    """

    def __init__(self, side: int, *, target_fps: float, min_side: int = MIN_SIDE, max_side: int | None = None,
                 window: int = 12, max_wait: float = 2.0, step: int = 16) -> None:
        if target_fps <= 0:
            raise UserInputError(f"--target-fps must be positive, got {target_fps}")
        self.max_side = max_side or side
        self.min_side = min(min_side, self.max_side)
        self.side = int(min(max(side, self.min_side), self.max_side))
        self.target_fps = target_fps
        self.window, self.max_wait, self.step = window, max_wait, step
        self.changes = 0
        self._samples: list[float] = []
        self._skip = 1

    def observe(self, seconds: float) -> int | None:
        if self._skip:
            self._skip -= 1
            return None
        self._samples.append(seconds)
        if len(self._samples) < self.window and not (len(self._samples) >= 2 and sum(self._samples) >= self.max_wait):
            return None
        measured = float(np.median(self._samples))
        self._samples.clear()
        ratio = (1.0 / self.target_fps) / max(measured, 1e-6)
        if 1.1 <= ratio <= 1.6:  # on target with some room: keep the size (and the temporal history)
            return None
        proposed = self.side * min(np.sqrt(ratio) * 0.9, 1.25)
        new = int(min(max(round(proposed / self.step) * self.step, self.min_side), self.max_side))
        if new == self.side:
            return None
        self.side = new
        self.changes += 1
        self._skip = 1
        return new


# ---------------------------------------------------------------------------------------- controls

KEY_HELP = "keys: n/p next/previous style, t temporal on/off, +/- strength, s snapshot, q quit"


class LiveControls:
    """What the keys change: the style (within its family), the temporal filter, strength, snapshots.

    ``build(request, device) -> Stylizer`` loads a style (``vidstyle.stylize.registry.build_stylizer``
    unless a test passes another); ``presets``: name -> Preset (``all_presets()`` when None).
    """

    def __init__(self, processor: FrameProcessor, request: StyleRequest, *, snapshot_dir: Path = Path("."),
                 build: Callable[[StyleRequest, torch.device], Stylizer] | None = None,
                 presets: dict | None = None, strength_step: float = 0.1) -> None:
        self.processor = processor
        self.request = request
        self.snapshot_dir = Path(snapshot_dir)
        self.strength_step = strength_step
        self._build = build
        self._presets = presets
        self.quit = False
        self.last_frame: np.ndarray | None = None
        self.message = ""
        self.snapshots: list[Path] = []

    @property
    def style_label(self) -> str:
        return self.request.label

    def handle_key(self, key: int | str) -> str | None:
        """Act on one key (a character or an OpenCV key code; -1 is no key). Returns what changed."""
        if isinstance(key, int):
            if key < 0:
                return None
            key = "q" if key & 0xFF == 27 else chr(key & 0xFF)  # Esc quits too
        key = key.lower()
        if key == "q":
            self.quit = True
            message = "quit"
        elif key in ("n", "p"):
            message = self.cycle_style(1 if key == "n" else -1)
        elif key == "t":
            message = self.toggle_temporal()
        elif key in ("+", "="):
            message = self.change_strength(self.strength_step)
        elif key in ("-", "_"):
            message = self.change_strength(-self.strength_step)
        elif key == "s":
            message = self.snapshot()
        else:
            return None
        self.message = message
        return message

    def _family_names(self) -> tuple[str | None, list[str]]:
        """(current preset or None, names of presets of the current style's family, in all_presets order)."""
        from vidstyle.stylize.styles import MAGENTA, all_presets, parse_blend

        presets = self._presets if self._presets is not None else all_presets()
        spec = self.request.style or ""
        current, family = None, MAGENTA  # an image file is painted by the arbitrary (magenta) network
        if not Path(spec).expanduser().is_file():
            try:
                first = parse_blend(spec)[0][0]
            except UserInputError:
                first = None
            if first in presets:
                current, family = (first if "," not in spec and ":" not in spec else None), presets[first].family
        return current, [name for name, p in presets.items() if p.family == family]

    def cycle_style(self, step: int) -> str:
        """Switch to the next (``step`` 1) or previous (-1) preset of the same family; rebuilds the stylizer."""
        if self.request.model is not None:
            return "n/p: a --model network has no presets to cycle through"
        current, names = self._family_names()
        if not names:
            return "n/p: no presets of this style's family"
        if current in names:
            name = names[(names.index(current) + step) % len(names)]
        else:
            name = names[0] if step > 0 else names[-1]
        request = replace(self.request, style=name)
        try:
            if self._build is None:
                from vidstyle.stylize.registry import build_stylizer

                self._build = build_stylizer
            stylizer = self._build(request, self.processor.device)
        except VidstyleError as exc:
            return f"cannot switch to {name}: {exc}"
        self.processor.stylizer = stylizer
        self.processor.reset()  # the previous frame was painted in another style
        self.request = request
        return f"style {name}"

    def toggle_temporal(self) -> str:
        if self.processor.temporal is None:
            return "temporal filter not loaded (started with --no-temporal)"
        self.processor.temporal_enabled = not self.processor.temporal_enabled
        if self.processor.temporal_enabled:
            self.processor.reset()  # its previous frame is stale
        return f"temporal {'on' if self.processor.temporal_enabled else 'off'}"

    def change_strength(self, delta: float) -> str:
        self.processor.strength = round(min(1.0, max(0.0, self.processor.strength + delta)), 3)
        return f"strength {self.processor.strength:.1f}"

    def snapshot(self) -> str:
        """Write the last shown frame as a PNG (atomically) into ``snapshot_dir``."""
        if self.last_frame is None:
            return "snapshot: no frame shown yet"
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path = self.snapshot_dir / f"vidstyle-{stamp}-{len(self.snapshots) + 1:03d}.png"
        try:
            with atomic_output(path) as tmp:
                if not cv2.imwrite(str(tmp), cv2.cvtColor(self.last_frame, cv2.COLOR_RGB2BGR)):
                    raise UserInputError(f"cannot write {path}")
        except (OSError, UserInputError) as exc:
            return f"snapshot failed: {exc}"
        self.snapshots.append(path)
        return f"snapshot {path}"


# ------------------------------------------------------------------------------------------ output

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


def window_unavailable_reason() -> str | None:
    """Why an OpenCV (highgui) window cannot open here, or None when it can be tried."""
    gui = next((line.split(":", 1)[1].strip() for line in cv2.getBuildInformation().splitlines()
                if line.strip().startswith("GUI:")), "")
    if gui.upper() in ("", "NONE"):
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


class FrameSink(Protocol):
    """Receives each shown frame: (H, W, 3) uint8 RGB and its capture time in clock seconds."""

    def write(self, image: np.ndarray, captured_at: float) -> None: ...


class VideoRecorder:
    """Record shown frames as H.264 (yuv420p) with pts from their capture time (variable frame rate).

    Written under a temporary name and renamed on exit, also when the loop ended by a camera failure
    or Ctrl-C; only a failure of the encoder itself (or no frame at all) leaves no file.
    """

    TIME_BASE = Fraction(1, 1000)  # milliseconds

    def __init__(self, path: Path, size: tuple[int, int], *, rate: float = 30.0, crf: int = 20,
                 preset: str = "veryfast") -> None:
        self.path = Path(path)
        self.size = size
        self.rate = Fraction(rate).limit_denominator(1001)
        self.crf, self.preset = crf, preset
        self.frames = 0
        self._first: float | None = None
        self._last_pts = -1

    def __enter__(self) -> "VideoRecorder":
        import av

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = temp_path_for(self.path)
        self._container = av.open(str(self._tmp), "w")
        stream = self._container.add_stream("libx264", rate=self.rate)
        stream.width, stream.height = padded_size(*self.size, "h264")
        stream.pix_fmt = "yuv420p"
        stream.time_base = self.TIME_BASE
        stream.codec_context.time_base = self.TIME_BASE
        stream.options = {"crf": str(self.crf), "preset": self.preset}
        stream.thread_type = "AUTO"
        self._stream = stream
        return self

    def write(self, image: np.ndarray, captured_at: float) -> None:
        self._first = captured_at if self._first is None else self._first
        pts = max(int(round((captured_at - self._first) / self.TIME_BASE)), self._last_pts + 1)
        frame = video_frame(image, self._stream)
        frame.pts, frame.time_base = pts, self.TIME_BASE
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self._last_pts = pts
        self.frames += 1

    def __exit__(self, exc_type, exc, tb) -> None:
        complete = False
        try:
            if self.frames:
                for packet in self._stream.encode():  # flush the encoder
                    self._container.mux(packet)
            self._container.close()
            complete = self.frames > 0
        finally:
            if complete:
                os.replace(self._tmp, self.path)
            elif self._tmp.exists():
                self._tmp.unlink()


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


# -------------------------------------------------------------------------------------------- loop

@dataclass
class LiveResult:
    """How a live session went. ``ended_by``: max_frames, quit, source_end, source_failed or interrupted;
    ``error``: the source's failure (camera lost, damaged file), reported after everything is finalised."""

    summary: dict
    ended_by: str
    error: VidstyleError | None = None
    processing_side: int | None = None
    size_changes: int = 0
    snapshots: list[Path] = field(default_factory=list)


def run_live(source, processor: FrameProcessor, controls: LiveControls, *, display: Display | None = None,
             sinks: Sequence[FrameSink] = (), max_frames: int | None = None,
             adaptive: AdaptiveSize | None = None, clock: Clock = time.monotonic,
             mailbox: Mailbox | None = None) -> LiveResult:
    """Show stylized frames from ``source`` (a FrameSource) until it ends, ``q``, Ctrl-C or ``max_frames``.

    Capture runs in its own thread into a one-slot mailbox; this loop always paints the newest frame.
    ``max_frames`` counts frames shown (and recorded). Sinks are opened and closed by the caller.
    ``mailbox``: pass one to inspect it afterwards (tests); a fresh one otherwise.
    """
    if max_frames is not None and max_frames < 1:
        raise UserInputError(f"--max-frames must be at least 1, got {max_frames}")
    display = display or NullDisplay()
    stats = LiveStats()
    mailbox = mailbox if mailbox is not None else Mailbox()
    grabber = FrameGrabber(source, mailbox, clock=clock)
    if adaptive is not None:
        processor.max_side = adaptive.side
    ended_by = "source_end"
    grabber.start()
    try:
        while True:
            item = mailbox.take(timeout=0.05)
            if item is None:
                if mailbox.finished:
                    ended_by = "source_failed" if mailbox.error is not None else "source_end"
                    break
                if (message := controls.handle_key(display.poll())) is not None:
                    log.info("%s", message)
                if controls.quit:
                    ended_by = "quit"
                    break
                continue
            started = clock()
            out = processor.process(item.image)
            for sink in sinks:
                sink.write(out, item.captured_at)
            lines = (f"{stats.recent_fps:4.1f} fps  {stats.recent_latency_ms:4.0f} ms  "
                     f"{processor.max_side}px", f"{controls.style_label}  temporal "
                     f"{'on' if processor.temporal_enabled else 'off'}  strength {processor.strength:.1f}",
                     controls.message)
            key = display.show(out, lines)
            shown_at = clock()
            stats.record(item.captured_at, shown_at)
            controls.last_frame = out
            if (message := controls.handle_key(key)) is not None:
                log.info("%s", message)
            if adaptive is not None and (side := adaptive.observe(shown_at - started)) is not None:
                processor.max_side = side
                processor.reset()  # the previous frame has another size
            if controls.quit:
                ended_by = "quit"
                break
            if max_frames is not None and stats.shown >= max_frames:
                ended_by = "max_frames"
                break
    except KeyboardInterrupt:
        ended_by = "interrupted"
    finally:
        grabber.stop()
        mailbox.discard()
    error = mailbox.error if ended_by == "source_failed" else None
    if error is not None and not isinstance(error, VidstyleError):
        raise error
    captured = mailbox.put_count  # every frame captured and not shown was dropped (replaced, or left at the end)
    return LiveResult(stats.summary(captured, captured - stats.shown), ended_by, error,
                      processor.max_side, adaptive.changes if adaptive else 0, list(controls.snapshots))


# ------------------------------------------------------------------------------------------ session

@dataclass(frozen=True)
class WebcamSettings:
    """A whole ``vidstyle webcam`` session. ``camera``: index or device path; ``source``: a file played
    as a camera (not both). ``target_fps`` 0 keeps the processing size fixed."""

    processing: ProcessorSettings
    camera: int | str | None = None
    source: Path | None = None
    size: tuple[int, int] | None = None
    target_fps: float = 15.0
    output: Path | None = None
    overwrite: bool = False
    virtual_cam: bool = False
    window: bool = True
    max_frames: int | None = None
    snapshot_dir: Path = Path(".")


def check_webcam_files(settings: WebcamSettings) -> None:
    """Refuse a bad ``--output`` before the camera or any model is opened."""
    out = settings.output
    if settings.max_frames is not None and settings.max_frames < 1:
        raise UserInputError(f"--max-frames must be at least 1, got {settings.max_frames}")
    if settings.target_fps < 0:
        raise UserInputError(f"--target-fps must not be negative, got {settings.target_fps}")
    if out is None:
        return
    check_output_container(out, EncodeSettings())
    check_output(settings.source, out, settings.overwrite)


def start_webcam(settings: WebcamSettings, *, display: Display | None = None) -> LiveResult:
    """Open the window, the capture and the outputs, load the models, run :func:`run_live`."""
    check_webcam_files(settings)
    with ExitStack() as stack:
        if display is None:
            display = stack.enter_context(OpenCVWindow()) if settings.window else NullDisplay()
        source = open_capture(camera=settings.camera, source=settings.source, size=settings.size)
        size = (source.info.width, source.info.height)
        rate = float(source.info.frame_rate) or 30.0
        sinks: list[FrameSink] = []
        if settings.virtual_cam:
            sinks.append(stack.enter_context(VirtualCamera(size, settings.target_fps or rate)))
        built = build_processor(settings.processing)
        if built.device.type == "cpu":
            torch.set_num_threads(live_cpu_threads())
        processor = built.processor
        upper = min(settings.processing.max_side or default_max_side(built.device), max(size))
        processor.max_side = upper
        adaptive = AdaptiveSize(upper, target_fps=settings.target_fps, max_side=upper) \
            if settings.target_fps > 0 else None
        if settings.output is not None:
            sinks.append(stack.enter_context(VideoRecorder(settings.output, size, rate=rate)))
        controls = LiveControls(processor, settings.processing.style, snapshot_dir=settings.snapshot_dir)
        log.info("webcam %s %dx%d, style %s; %s", source.label, size[0], size[1], controls.style_label,
                 KEY_HELP if settings.window else "Ctrl-C stops")
        result = run_live(source, processor, controls, display=display, sinks=sinks,
                          max_frames=settings.max_frames, adaptive=adaptive)
    if isinstance(result.error, CameraLostError) and settings.output is not None:
        log.info("recording finalised: %s", settings.output)
    return result

