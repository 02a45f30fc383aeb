"""Regenerate the strips that judge the temporal filter on motion by eye: per frame (left) vs temporal
(right), both through ``vidstyle run`` with its defaults (``--style starry_night``, eager network).

- ``docs/pan_strip.png``: the top of the bundled sample's sky at frames 10, 30 and 60 at their own size
  (the camera pans 2 px per frame over a flat sky). A filter that smears strokes along the motion shows
  horizontal streaks; the horizontal/vertical gradient energy of each crop is printed (streaks along x
  lower the temporal figure below the per-frame one).
- ``docs/wake_strip.png``: the sample's sun at frames 30, 50 and 70. The network paints a glow around
  it; a filter that trusts the unchanged sky behind the sun leaves that glow as a pale wake.
- ``docs/zoom_strip.png``: a zoom into the sample's first frame (1.5% a frame, generated here) at frames
  10, 30 and 47: strokes should grow with the scene, neither swim nor blur.
- ``docs/still_sky_strip.png`` (when ``../shared/data`` is there): the still sky of Big Buck Bunny
  (cutBunny) at frames 12, 24 and 47, doubled in size: strokes the network paints differently on every
  frame must not average into the fine crosshatch all frames share.

    python scripts/motion_strips.py [--output-dir docs]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from vidstyle.io.reader import open_source
from vidstyle.io.writer import write_image
from vidstyle.synth import write_clip

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "sample.mp4"
ZOOM_FRAMES, ZOOM_STEP = 48, 1.015
STILL_CLIP = Path(os.environ.get("VIDSTYLE_SHARED_DATA", ROOT / ".." / "shared" / "data")) / "videos" / "cutBunny.mp4"


def render(clip: Path, folder: Path, frames: int, *extra: str) -> list[np.ndarray]:
    """The first ``frames`` frames of ``clip`` through ``vidstyle run``, (H, W, 3) uint8 RGB."""
    subprocess.run([sys.executable, "-c", "from vidstyle.cli.app import main; main()", "run", str(clip),
                    "-o", str(folder / "f_%03d.png"), "--style", "starry_night", "--no-compile", "--quiet",
                    "--max-frames", str(frames), *extra], check=True)
    return [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in sorted(folder.glob("f_*.png"))]


def anisotropy(image: np.ndarray) -> float:
    """Horizontal over vertical gradient energy of a uint8 crop (low: streaks along x)."""
    x = image.astype(np.float32) / 255.0
    dx = np.diff(x, axis=1)[:-1].var()
    dy = np.diff(x, axis=0)[:, :-1].var()
    return float(dx / max(dy, 1e-12))


def zoom_clip(path: Path) -> Path:
    """A zoom into the sample's first frame, centred on its left third (sun and hills), 24 fps."""
    first = next(open_source(SAMPLE).frames()).image
    h, w = first.shape[:2]
    frames = []
    for t in range(ZOOM_FRAMES):
        s, cx, cy = ZOOM_STEP**t, w * 0.35, h * 0.5
        matrix = np.float32([[s, 0, w / 2 - s * cx], [0, s, h / 2 - s * cy]])
        frames.append(cv2.warpAffine(first, matrix, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT))
    return write_clip(path, frames, fps=24, audio_codec=None, crf=12)


def sun_crop(image: np.ndarray, t: int) -> np.ndarray:
    """(170, 230, 3): the sample's sun at frame ``t`` (x = 96 + 3t: vidstyle.synth) and the sky behind it."""
    x0 = max(0, (96 + 3 * t) % image.shape[1] - 170)
    return image[30:200, x0 : x0 + 230]


def strip(pairs: list[tuple[np.ndarray, np.ndarray]], label: str) -> np.ndarray:
    """Rows of (per frame | temporal) crops, labelled."""
    h = pairs[0][0].shape[0]
    rows = [np.concatenate([a, np.full((h, 4, 3), 255, np.uint8), b], axis=1) for a, b in pairs]
    image = np.concatenate(rows, axis=0)
    for x, text in ((4, f"per frame ({label})"), (pairs[0][0].shape[1] + 8, "temporal")):
        cv2.putText(image, text, (x, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
    return image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        runs = {}
        clips = [("sample", SAMPLE, 71), ("zoom", zoom_clip(tmp / "zoom.mp4"), ZOOM_FRAMES)]
        if STILL_CLIP.is_file():
            clips.append(("still", STILL_CLIP, 48))
        for name, clip, frames in clips:
            for mode, extra in (("per_frame", ["--no-temporal"]), ("temporal", [])):
                (tmp / f"{name}_{mode}").mkdir()
                runs[name, mode] = render(clip, tmp / f"{name}_{mode}", frames, *extra)

    def pairs(name: str, frames: tuple[int, ...], crop) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(crop(runs[name, "per_frame"][t], t), crop(runs[name, "temporal"][t], t)) for t in frames]

    sky = pairs("sample", (10, 30, 60), lambda image, t: image[0:90, 120:360])
    for t, (a, b) in zip((10, 30, 60), sky):
        print(f"pan, frame {t}: horizontal/vertical gradient energy per frame {anisotropy(a):.2f}, "
              f"temporal {anisotropy(b):.2f}")
    sun = pairs("sample", (30, 50, 70), sun_crop)
    zoom = pairs("zoom", (10, 30, 47), lambda image, t: image[40:230, 40:320])
    strips = [("pan_strip", sky, "10, 30, 60"), ("wake_strip", sun, "30, 50, 70"), ("zoom_strip", zoom, "10, 30, 47")]
    if ("still", "temporal") in runs:
        def sky_of_bunny(image: np.ndarray, t: int) -> np.ndarray:
            return cv2.resize(image[0:100, 0:240], None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)

        strips.append(("still_sky_strip", pairs("still", (12, 24, 47), sky_of_bunny), "12, 24, 47"))
    for name, rows, label in strips:
        write_image(args.output_dir / f"{name}.png", strip(rows, label))
        print(f"wrote {args.output_dir / name}.png")


if __name__ == "__main__":
    main()
