"""Frames shown, frame rate and latency of a live session; the ``webcam --json`` summary."""

from __future__ import annotations

from collections import deque

import numpy as np

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
