"""Make docs/music_strip.jpg: six frames of the README's music-video render of the bundled sample.

The strip is cut from a real ``vidstyle run`` (temporal filter on) with the options of
docs/curves_sample.png: the melody's onsets drive the strength, Starry Night crossfades to The Great
Wave in the network's style space, the temporal weight eases off. Each tile is labelled with the
values ``vidstyle curves`` reports for its frame (the sample is at 24 fps).

    python samples/make_music_strip.py
"""

import json
import tempfile
from pathlib import Path

import cv2
import numpy as np

from vidstyle.cli.app import main as vidstyle
from vidstyle.io.sequence import find_sequence

SAMPLE = Path(__file__).with_name("sample.mp4")
FRAMES = (12, 20, 36, 44, 72, 92)  # on a note, between notes, mid-crossfade, after it
OPTIONS = ["--style", "0:(starry_night), 1s:(starry_night), 3s:(the_wave)", "--temporal-weight", "0:(20), 3s:(8)",
           "--audio-react", "strength:onset", "--react-range", "0.4,1", "--react-attack", "0.04",
           "--react-release", "0.35"]


def main() -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        pattern = Path(tmp) / "f.%04d.png"
        vidstyle(["curves", str(SAMPLE), "-o", str(Path(tmp) / "c.json"), *OPTIONS, "--quiet"])
        curves = json.loads((Path(tmp) / "c.json").read_text())
        vidstyle(["run", str(SAMPLE), "-o", str(pattern), *OPTIONS, "--quiet"])
        frames = find_sequence(pattern).paths
        tiles = []
        for index in FRAMES:
            tile = cv2.copyMakeBorder(cv2.imread(str(frames[index])), 0, 44, 0, 4, cv2.BORDER_CONSTANT,
                                      value=(255, 255, 255))
            labels = (f"frame {index}  t={index / curves['fps']:.2f}s",
                      f"strength {curves['curves']['strength'][index]:.2f}  "
                      f"wave {curves['curves']['style:the_wave'][index]:.2f}")
            for row, text in enumerate(labels):
                cv2.putText(tile, text, (6, 270 + 17 + 18 * row), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (40, 40, 40), 1,
                            cv2.LINE_AA)
            tiles.append(tile)
    strip = np.vstack([np.hstack(tiles[:3]), np.hstack(tiles[3:])])
    strip = cv2.resize(strip, None, fx=0.75, fy=0.75, interpolation=cv2.INTER_AREA)
    out = Path(__file__).parents[1] / "docs" / "music_strip.jpg"
    cv2.imwrite(str(out), strip, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return out


if __name__ == "__main__":
    print(f"wrote {main()}")
