"""What flows between the render's threads: typed frame messages over closable bounded channels."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np
import torch

QUEUE_DEPTH = 4


@dataclass(frozen=True)
class FrameMessage:
    """One frame between stages.

    ``index``: 0-based position in the render; ``pts``: in the source's time base, 0 at the render's
    first frame; ``time``: ``pts`` in seconds; ``image``: (H, W, 3) uint8 RGB (decoded, then painted; a
    render plan with float output paints (H, W, 3|4) float32 0..1, RGBA premultiplied);
    ``state``: the temporal state after this frame (CPU tensors) when it closes a segment, else None.
    """

    index: int
    pts: int
    time: float
    image: np.ndarray
    state: dict[str, torch.Tensor] | None = None


class Cancelled(Exception):
    """Raised in a stage whose render was stopped by another stage's error or by Ctrl-C."""


class Channel:
    """A bounded queue from one producer thread to one consumer; ``stop`` ends both sides early."""

    _END = object()

    def __init__(self, stop: threading.Event, depth: int = QUEUE_DEPTH) -> None:
        self._queue: queue.Queue = queue.Queue(depth)
        self._stop = stop

    def put(self, item: object) -> None:
        """Hand ``item`` on; raises :class:`Cancelled` once the render is stopping."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        raise Cancelled

    def close(self) -> None:
        """No more items: the consumer's iteration ends after those already put."""
        self.put(self._END)

    def drain(self, producer: Future | None = None) -> Iterator:
        """The items until :meth:`close`; re-raises the ``producer``'s error, :class:`Cancelled` on stop."""
        while True:
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                if producer is not None and producer.done() and producer.exception() is not None:
                    raise producer.exception()
                if self._stop.is_set():
                    raise Cancelled from None
                continue
            if item is self._END:
                return
            yield item
