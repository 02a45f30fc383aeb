"""One frame in, one stylized frame out: resizing, stylizer, temporal filter and strength.

Shared by ``vidstyle run`` (through :mod:`vidstyle.pipeline`) and ``vidstyle webcam``
(:mod:`vidstyle.live`), so both paint the same way. What may change from frame to frame (the style of a
schedule, strength, temporal weight) comes with each call as :class:`FrameControls`; what a live
session changes for good goes through the small control API (``set_max_side``, ``set_style``,
``set_strength``, ``set_temporal``).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from vidstyle.checks import check_unit_range
from vidstyle.io.convert import processing_size, resize, to_tensor, to_uint8
from vidstyle.stylize.base import Stylizer
from vidstyle.temporal.base import Paint, TemporalFilter


@dataclass(frozen=True)
class FrameControls:
    """What one frame is painted with; None fields keep the processor's current setting.

    ``time``: the frame's time in seconds from the start of the render (what a schedule keys on).
    ``style``: the network family's style input, e.g. a Magenta (1, 100) vector or CIN-26 (1, 26)
    weights, so a crossfade is a lerp of two of them. ``strength``: 0..1 blend with the input.
    ``temporal_weight``: the temporal filter's weight for this frame.
    """

    time: float = 0.0
    style: torch.Tensor | None = None
    strength: float | None = None
    temporal_weight: float | None = None


@dataclass(frozen=True)
class StartedFrame:
    """A frame between :meth:`FrameProcessor.begin` and :meth:`FrameProcessor.complete`.

    ``image``: the input (H, W, 3) uint8 RGB; ``full``: it as (1, 3, H, W) float 0..1; ``small``: at
    the processing size (None where strength 0 paints nothing); ``paint``: frame t's fresh painting,
    already under way in the painter thread where the processor paints ahead.
    """

    image: np.ndarray
    controls: FrameControls
    strength: float
    full: torch.Tensor
    small: torch.Tensor | None
    paint: Paint | None


class FrameProcessor:
    """Stylize uint8 (H, W, 3) RGB frames in order; the output has the input's size.

    ``max_side`` caps the processing size (long side); ``strength`` blends the stylization with the
    input at full resolution, so 0 returns the input unchanged.

    A frame is :meth:`begin` then :meth:`complete` (:meth:`process` does both). After
    :meth:`paint_ahead`, ``begin`` hands the network's painting to a thread of its own, so a caller
    that begins frame t+1 before completing frame t (:func:`vidstyle.pipeline.render_segment`) paints
    frame t+1 while frame t's temporal step runs.
    """

    def __init__(self, stylizer: Stylizer, temporal: TemporalFilter | None, *, max_side: int | None,
                 strength: float = 1.0, keep_processing_size: bool = False) -> None:
        self.stylizer = stylizer
        self.temporal = temporal
        self.keep_processing_size = keep_processing_size
        self._temporal_on = temporal is not None
        self._max_side = max_side
        self._strength = check_unit_range(strength, "--strength")
        self._style: torch.Tensor | None = None
        self._painter: ThreadPoolExecutor | None = None
        self._stage_threads = 0  # torch's threads of each stage when painting ahead

    # ------------------------------------------------------------------ settings (read-only views)
    @property
    def device(self) -> torch.device:
        return self.stylizer.device

    @property
    def max_side(self) -> int | None:
        return self._max_side

    @property
    def strength(self) -> float:
        return self._strength

    @property
    def temporal_enabled(self) -> bool:
        return self._temporal_on

    @property
    def style(self) -> torch.Tensor | None:
        """The style every frame gets unless its controls bring one (None: the stylizer's own)."""
        return self._style

    # ------------------------------------------------------------------ control API
    def set_max_side(self, side: int | None) -> None:
        """Paint at another processing size (long side); the temporal history restarts if it changed."""
        if side != self._max_side:
            self._max_side = side
            self.reset()  # the previous frame has another size

    def set_style(self, style: torch.Tensor | None) -> None:
        """Paint the next frames with ``style`` (the family's style input; None: the stylizer's own).
        The temporal history restarts: the previous frame was painted in another style."""
        self._style = style
        self.reset()

    def set_strength(self, strength: float) -> None:
        self._strength = check_unit_range(strength, "--strength")

    def set_temporal(self, on: bool) -> bool:
        """Turn the temporal filter on or off; False when there is none (started without one).
        Turning it on restarts its history (its previous frame is stale)."""
        if self.temporal is None:
            return False
        if on and not self._temporal_on:
            self.reset()
        self._temporal_on = on
        return True

    def paint_ahead(self, threads: int) -> None:
        """Paint each begun frame in a thread of its own (see the class), with ``threads`` of torch's
        threads, and run the rest of each frame on as many (:meth:`stage_threads`): on the 2-core CPU,
        with the compiled network and the temporal step on one core each, 66-67 instead of 76-78 ms a frame
        with both on two cores one after the other (``benchmarks/paint_ahead.py``). Only for temporal
        filters that paint every frame (the flow filter, not ``--method optimize``'s)."""
        if self._painter is None:
            self._stage_threads = threads
            self._painter = ThreadPoolExecutor(1, thread_name_prefix="vidstyle-paint",
                                               initializer=torch.set_num_threads, initargs=(threads,))

    @contextmanager
    def stage_threads(self) -> Iterator[None]:
        """Within the block, the calling thread uses the painter's share of torch's threads (when
        painting ahead; else nothing changes): what a render's frames and the kernels built for them
        run on. torch's thread count is per thread; it is restored after the block."""
        if self._painter is None:
            yield
            return
        before = torch.get_num_threads()
        torch.set_num_threads(self._stage_threads)
        try:
            yield
        finally:
            torch.set_num_threads(before)

    # ------------------------------------------------------------------ painting
    def output_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) of what :meth:`process` returns for an input of this size."""
        if self.keep_processing_size:
            return self.processing_size(width, height)
        return width, height

    def processing_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) the stylizer paints at for an input of this size."""
        return processing_size(width, height, self._max_side)

    def prepare(self, width: int, height: int) -> None:
        """Stylize one grey frame at the processing size of a ``width`` x ``height`` input.

        A compiled network builds its kernels on its first frame of a size (tens of seconds on a CPU);
        this puts that in model loading rather than in the render. Temporal state is untouched.
        """
        w, h = self.processing_size(width, height)
        with torch.no_grad(), self.stage_threads():  # the kernels the painter thread runs
            self._paint_with(self._style)(torch.full((1, 3, h, w), 0.5, device=self.device))

    def process(self, image: np.ndarray, controls: FrameControls | None = None, *,
                as_float: bool = False) -> np.ndarray:
        """(H, W, 3) uint8 RGB -> stylized (H', W', 3) uint8 RGB (H', W' from :meth:`output_size`), or
        float32 0..1 with ``as_float`` (not rounded to 8 bits: for EXR/16-bit output and compositing).

        ``controls`` override the style, strength and temporal weight for this frame only.
        """
        return self.complete(self.begin(image, controls), as_float=as_float)

    def begin(self, image: np.ndarray, controls: FrameControls | None = None) -> StartedFrame:
        """Frame t up to its fresh painting, which starts in the painter thread after
        :meth:`paint_ahead`; :meth:`complete` finishes it. Frames are completed in the order begun."""
        controls = controls or FrameControls()
        strength = self._strength if controls.strength is None else check_unit_range(controls.strength, "strength")
        full = to_tensor(image, self.device)
        if strength == 0.0:
            return StartedFrame(image, controls, strength, full, None, None)
        style = self._style if controls.style is None else controls.style
        h, w = image.shape[:2]
        small = resize(full, self.processing_size(w, h))
        paint = self._paint_with(style)
        if self._painter is not None:
            paint = _painted_ahead(small, self._painter.submit(_without_grad, paint, small), paint)
        return StartedFrame(image, controls, strength, full, small, paint)

    def complete(self, started: StartedFrame, *, as_float: bool = False) -> np.ndarray:
        """The painted frame of :meth:`begin`: the temporal step, strength and the output's size."""
        image, full, strength = started.image, started.full, started.strength
        h, w = image.shape[:2]
        out_w, out_h = self.output_size(w, h)
        if started.small is None or started.paint is None:  # strength 0
            if (out_w, out_h) == (w, h):
                return image.astype(np.float32) / np.float32(255.0) if as_float else image
            return _output(resize(full, (out_w, out_h)), as_float)
        with torch.no_grad():
            if self.temporal is not None and self._temporal_on:
                styled = self.temporal.step(started.small, started.paint, started.controls.temporal_weight)
            else:
                styled = started.paint(started.small)
            out = resize(styled, (out_w, out_h))
            if strength < 1.0:
                out = torch.lerp(resize(full, (out_w, out_h)), out, strength)
        return _output(out, as_float)

    def _paint_with(self, style: torch.Tensor | None) -> Paint:
        """The stylizer with ``style`` bound; None leaves the stylizer's own (and its argument unused)."""
        if style is None:
            return self.stylizer.stylize
        return lambda content: self.stylizer.stylize(content, style)

    # ------------------------------------------------------------------ temporal state
    def reset(self) -> None:
        """Forget the previous frames (a scene cut the caller knows of, or a new source)."""
        if self.temporal is not None:
            self.temporal.reset()

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.temporal.state_dict() if self.temporal is not None else {}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        if self.temporal is not None:
            self.temporal.load_state_dict(state)


def _without_grad(paint: Paint, content: torch.Tensor) -> torch.Tensor:
    """``paint(content)`` outside autograd (no_grad is per thread: the painter thread's own)."""
    with torch.no_grad():
        return paint(content)


def _painted_ahead(content: torch.Tensor, painting: Future, paint: Paint) -> Paint:
    """A Paint that gives ``painting``'s result for ``content`` itself (the painter thread's work, its
    errors raised here) and paints any other frame with ``paint``."""
    return lambda frame: painting.result() if frame is content else paint(frame)


def _output(image: torch.Tensor, as_float: bool) -> np.ndarray:
    """(1, 3, H, W) float RGB -> (H, W, 3) uint8, or float32 clipped to 0..1 with ``as_float``."""
    if not as_float:
        return to_uint8(image)
    return image[0].clamp(0.0, 1.0).permute(1, 2, 0).float().contiguous().cpu().numpy()
