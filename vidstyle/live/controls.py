"""What the keys of a live session change: style, temporal filter, strength, snapshots, quit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np
import torch

from vidstyle.errors import UserInputError, VidstyleError
from vidstyle.io.writer import write_image
from vidstyle.processor import FrameProcessor
from vidstyle.stylize.registry import StyleRequest, style_input

KEY_HELP = "keys: n/p next/previous style, t temporal on/off, +/- strength, s snapshot, q quit"


class LiveControls:
    """What the keys change: the style (within its family), the temporal filter, strength, snapshots.

    Another preset of the family is another style input of the same network, so switching loads
    nothing. ``style_of(request) -> Tensor`` gives that input (``vidstyle.stylize.registry.style_input``
    unless a test passes another); ``presets``: name -> Preset (``all_presets()`` when None).
    """

    def __init__(self, processor: FrameProcessor, request: StyleRequest, *, snapshot_dir: Path = Path("."),
                 style_of: Callable[[StyleRequest], torch.Tensor] | None = None,
                 presets: dict | None = None, strength_step: float = 0.1) -> None:
        self.processor = processor
        self.request = request
        self.snapshot_dir = Path(snapshot_dir)
        self.strength_step = strength_step
        self._style_of = style_of or (lambda r: style_input(r, processor.device))
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
        """Switch to the next (``step`` 1) or previous (-1) preset of the same family."""
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
            style = self._style_of(request)
        except VidstyleError as exc:
            return f"cannot switch to {name}: {exc}"
        self.processor.set_style(style)  # restarts the temporal history: another style
        self.request = request
        return f"style {name}"

    def toggle_temporal(self) -> str:
        if not self.processor.set_temporal(not self.processor.temporal_enabled):
            return "temporal filter not loaded (started with --no-temporal)"
        return f"temporal {'on' if self.processor.temporal_enabled else 'off'}"

    def change_strength(self, delta: float) -> str:
        self.processor.set_strength(round(min(1.0, max(0.0, self.processor.strength + delta)), 3))
        return f"strength {self.processor.strength:.1f}"

    def snapshot(self) -> str:
        """Write the last shown frame as a PNG (atomically) into ``snapshot_dir``."""
        if self.last_frame is None:
            return "snapshot: no frame shown yet"
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path = self.snapshot_dir / f"vidstyle-{stamp}-{len(self.snapshots) + 1:03d}.png"
        try:
            write_image(path, self.last_frame)
        except (OSError, UserInputError) as exc:
            return f"snapshot failed: {exc}"
        self.snapshots.append(path)
        return f"snapshot {path}"
