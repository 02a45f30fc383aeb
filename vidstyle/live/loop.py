"""The live loop behind ``vidstyle webcam``: newest frame in, stylized frame out, a few times a second.

capture thread (:mod:`vidstyle.io.camera`) > one-slot mailbox > :class:`~vidstyle.processor.FrameProcessor`
(the same stylizers and temporal filters as ``vidstyle run``) > window, recording,
virtual camera. The loop always takes the newest frame, so a slow stylizer drops frames instead of
falling behind, and :class:`AdaptiveSize` changes the processing size now and then to hold a target
frame rate. Keys act through :meth:`LiveControls.handle_key`, a plain method tests call directly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vidstyle.errors import UserInputError, VidstyleError
from vidstyle.io.camera import Clock, FrameGrabber, Mailbox
from vidstyle.live.adaptive import AdaptiveSize
from vidstyle.live.controls import LiveControls
from vidstyle.live.outputs import FrameSink
from vidstyle.live.stats import LiveStats
from vidstyle.live.window import Display, NullDisplay
from vidstyle.processor import FrameProcessor

log = logging.getLogger("vidstyle")


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
             adaptive: AdaptiveSize | None = None, clock: Clock = time.monotonic) -> LiveResult:
    """Show stylized frames from ``source`` (a FrameSource) until it ends, ``q``, Ctrl-C or ``max_frames``.

    Capture runs in its own thread into a one-slot mailbox; this loop always paints the newest frame.
    ``max_frames`` counts frames shown (and recorded). Sinks are opened and closed by the caller.
    """
    if max_frames is not None and max_frames < 1:
        raise UserInputError(f"--max-frames must be at least 1, got {max_frames}")
    display = display or NullDisplay()
    stats = LiveStats()
    mailbox = Mailbox()
    grabber = FrameGrabber(source, mailbox, clock=clock)
    if adaptive is not None:
        processor.set_max_side(adaptive.side)
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
                processor.set_max_side(side)  # restarts the temporal history: another size
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
