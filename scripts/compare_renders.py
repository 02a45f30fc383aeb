"""Judge a speed change by eye: the same frames of two renders of one clip side by side (left: the first,
right: the second), with their mean absolute difference in 8-bit levels printed per frame.

    python scripts/compare_renders.py BEFORE.mp4 AFTER.mp4 -o docs/STRIP.png [--frames 40 120 180] [--width 320]

Each row is one frame; each half shows the left ``--width`` pixels of that render (full resolution, no
scaling, so strokes can be compared one for one).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from vidstyle.io.reader import open_source


def picked_frames(path: Path, indices: list[int]) -> dict[int, np.ndarray]:
    """The frames of ``path`` at ``indices``, (H, W, 3) uint8 RGB."""
    wanted = set(indices)
    return {f.index: f.image for f in open_source(path, max_frames=max(indices) + 1).frames() if f.index in wanted}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--frames", type=int, nargs="+", default=[40, 120, 180])
    parser.add_argument("--width", type=int, default=320)
    args = parser.parse_args()
    before, after = picked_frames(args.before, args.frames), picked_frames(args.after, args.frames)
    rows = []
    for i in args.frames:
        a, b = before[i], after[i]
        print(f"frame {i}: mean |difference| {np.abs(a.astype(np.int16) - b).mean():.2f} levels of 255")
        rows.append(np.concatenate([a[:, :args.width], b[:, :args.width]], axis=1))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.output), cv2.cvtColor(np.concatenate(rows, axis=0), cv2.COLOR_RGB2BGR))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
