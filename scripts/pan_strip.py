"""Regenerate docs/pan_strip.png: the sky of the bundled sample's camera pan, per frame vs temporal.

The sample (``samples/make_sample.py``) pans 2 px per frame over a flat sky. Both renders go through
``vidstyle run`` with its defaults (``--style starry_night``, eager network); the strip shows the top of
the sky at frames 10, 30 and 60 at their own size: per frame on the left, temporal on the
right. A temporal filter that smears the strokes along the motion shows horizontal streaks on the
right; the horizontal/vertical gradient energy of each crop is printed (streaks along x lower the
temporal figure below the per-frame one).

    python scripts/pan_strip.py [--output docs/pan_strip.png]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from vidstyle.io.writer import write_image

ROOT = Path(__file__).resolve().parents[1]
FRAMES = (10, 30, 60)
SKY = (slice(0, 90), slice(120, 360))  # rows, columns of the 480x270 sample: sky only


def render(folder: Path, *extra: str) -> None:
    """The sample's first frames through ``vidstyle run`` as PNG frames in ``folder``."""
    subprocess.run([sys.executable, "-c", "from vidstyle.cli.app import main; main()", "run",
                    str(ROOT / "samples" / "sample.mp4"),
                    "-o", str(folder / "f_%03d.png"), "--style", "starry_night", "--no-compile",
                    "--max-frames", str(max(FRAMES) + 1), *extra], check=True)


def crop(folder: Path, t: int) -> np.ndarray:
    """(90, 240, 3) uint8 RGB: the sky of frame ``t`` (1-based file names, as the renderer writes)."""
    image = cv2.cvtColor(cv2.imread(str(folder / f"f_{t + 1:03d}.png")), cv2.COLOR_BGR2RGB)
    return image[SKY]


def anisotropy(image: np.ndarray) -> float:
    """Horizontal over vertical gradient energy of a uint8 crop (low: streaks along x)."""
    x = image.astype(np.float32) / 255.0
    dx = np.diff(x, axis=1)[:-1].var()
    dy = np.diff(x, axis=0)[:, :-1].var()
    return float(dx / max(dy, 1e-12))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "pan_strip.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        per_frame, temporal = Path(tmp) / "per_frame", Path(tmp) / "temporal"
        render(per_frame, "--no-temporal")
        render(temporal)
        rows = []
        for t in FRAMES:
            tiles = [crop(per_frame, t), crop(temporal, t)]
            print(f"frame {t}: horizontal/vertical gradient energy per frame "
                  f"{anisotropy(tiles[0]):.2f}, temporal {anisotropy(tiles[1]):.2f}")
            rows.append(np.concatenate([tiles[0], np.full((90, 4, 3), 255, np.uint8), tiles[1]], axis=1))
    strip = np.concatenate(rows, axis=0)
    for x, label in ((4, f"per frame ({', '.join(map(str, FRAMES))})"), (248, "temporal")):
        cv2.putText(strip, label, (x, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
    write_image(args.output, strip)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
