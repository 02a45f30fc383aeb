"""``vidstyle curves`` output: a track's per-frame values as JSON, CSV or a PNG plot over the waveform.

The plot is drawn with OpenCV (no plotting library needed): the audio waveform on top, then one lane
per curve with its own value range, on a shared time axis in seconds.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np

from vidstyle.errors import UserInputError
from vidstyle.io.atomic import atomic_output
from vidstyle.schedule.track import ControlTrack

FORMATS = (".json", ".csv", ".png")
WIDTH, LANE, WAVE, MARGIN = 1200, 110, 120, 70
COLOURS = [(40, 120, 230), (60, 170, 60), (200, 90, 40), (150, 60, 170), (30, 170, 200), (120, 120, 30)]  # BGR


def write_curves(track: ControlTrack, path: Path, waveform: np.ndarray | None = None) -> None:
    """Write ``track`` to ``path`` (.json/.csv/.png). ``waveform``: (S,) samples spanning the clip, for PNG."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise UserInputError(f"curves output must end in {', '.join(FORMATS)}, got {path.name!r}")
    with atomic_output(path) as tmp:
        if suffix == ".json":
            data = {"fps": track.fps, "frames": track.frames,
                    "curves": {k: [round(float(v), 6) for v in c] for k, c in track.curves.items()}}
            tmp.write_text(json.dumps(data) + "\n")
        elif suffix == ".csv":
            with tmp.open("w", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(["frame", "time", *track.curves])
                for i, t in enumerate(track.timeline.times):
                    writer.writerow([i, f"{t:.6f}", *(f"{c[i]:.6f}" for c in track.curves.values())])
        elif not cv2.imwrite(str(tmp), plot_curves(track, waveform)):
            raise UserInputError(f"cannot write {path}")


def _text(img: np.ndarray, text: str, x: int, y: int, colour=(40, 40, 40), scale: float = 0.45) -> None:
    cv2.putText(img, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)


def _waveform_lane(img: np.ndarray, samples: np.ndarray, top: int, width: int) -> None:
    """Min/max envelope of ``samples`` per pixel column, centred in a lane of height WAVE."""
    mid, half = top + WAVE // 2, WAVE // 2 - 6
    columns = np.array_split(samples, width) if len(samples) >= width else [samples] * width
    peak = max(float(np.max(np.abs(samples))), 1e-6) if len(samples) else 1.0
    for x, col in enumerate(columns):
        if len(col):
            lo, hi = float(col.min()) / peak, float(col.max()) / peak
            cv2.line(img, (MARGIN + x, int(mid - hi * half)), (MARGIN + x, int(mid - lo * half)), (170, 170, 170))
    _text(img, "audio", 8, mid + 5)


def plot_curves(track: ControlTrack, waveform: np.ndarray | None = None) -> np.ndarray:
    """(H, W, 3) uint8 BGR: waveform lane (if given), one lane per curve, time axis below."""
    width = WIDTH - MARGIN - 20
    lanes = list(track.curves.items())
    top = 10 + (WAVE if waveform is not None else 0)
    height = top + LANE * len(lanes) + 40
    img = np.full((height, WIDTH, 3), 255, np.uint8)
    if waveform is not None:
        _waveform_lane(img, np.asarray(waveform, np.float32), 10, width)
    t = track.timeline.times
    duration = max(float(t[-1]), 1e-6)
    xs = MARGIN + np.round(t / duration * (width - 1)).astype(np.int32)
    for k, (name, values) in enumerate(lanes):
        y0 = top + k * LANE + 18
        lo, hi = float(np.min(values)), float(np.max(values))
        if hi - lo < 1e-9:
            lo, hi = lo - 0.5, hi + 0.5
        ys = y0 + np.round((hi - values) / (hi - lo) * (LANE - 30)).astype(np.int32)
        cv2.rectangle(img, (MARGIN, y0), (MARGIN + width - 1, y0 + LANE - 30), (225, 225, 225), 1)
        colour = COLOURS[k % len(COLOURS)]
        cv2.polylines(img, [np.stack([xs, ys], axis=1)], False, colour, 2, cv2.LINE_AA)
        _text(img, name, MARGIN + 6, y0 - 4, colour, 0.5)
        _text(img, f"{hi:.3g}", 8, y0 + 10)
        _text(img, f"{lo:.3g}", 8, y0 + LANE - 30)
    axis = height - 28
    step = max(1, int(np.ceil(duration / 10)))
    for second in range(0, int(duration) + 1, step):
        x = MARGIN + int(second / duration * (width - 1))
        cv2.line(img, (x, axis - 4), (x, axis + 2), (80, 80, 80))
        _text(img, f"{second}s", x - 8, axis + 18)
    return img
