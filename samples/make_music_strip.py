"""Make docs/music_strip.jpg: frames of the bundled sample painted with the per-frame values of the
README's music-video example (the curves of docs/curves_sample.png).

Each frame gets its own style vector (Starry Night crossfading to The Great Wave in the network's
style space) and its own strength (the melody's onsets). The frames are painted one by one, without the
temporal filter: this shows the controls, not yet a render (the render wiring comes with the per-frame
processor).

    python samples/make_music_strip.py
"""

from pathlib import Path

import cv2
import numpy as np
import torch

from vidstyle.audio.react import Envelope
from vidstyle.io.convert import to_tensor, to_uint8
from vidstyle.io.reader import open_source
from vidstyle.schedule.styles import StyleBank, preset_tensor_at
from vidstyle.schedule.timeline import probe_timeline
from vidstyle.schedule.track import ControlSpec, build_track
from vidstyle.stylize.feedforward import MagentaStylizer

SAMPLE = Path(__file__).with_name("sample.mp4")
FRAMES = (12, 20, 36, 44, 72, 92)  # on a note, between notes, mid-crossfade, after it
SPEC = ControlSpec(style="0:(starry_night), 1s:(starry_night), 3s:(the_wave)", temporal_weight="0:(20), 3s:(8)",
                   audio_react=("strength:onset",), react_range=("0.4,1",), envelope=Envelope(attack=0.04, release=0.35))


def main() -> Path:
    track = build_track(SPEC, probe_timeline(SAMPLE))
    bank = StyleBank(track.styles.names, preset_tensor_at(lambda image, scale: None))
    stylizer = MagentaStylizer(bank.mix({"starry_night": 1.0}))
    tiles = []
    for frame in open_source(SAMPLE).frames():
        if frame.index not in FRAMES:
            continue
        values = track.values_at(frame.index)
        stylizer.style = bank.mix(values.style_weights, values.style_scale)
        content = to_tensor(frame.image)
        with torch.inference_mode():
            painted = torch.lerp(content, stylizer.stylize(content), values.strength)
        tile = cv2.cvtColor(to_uint8(painted), cv2.COLOR_RGB2BGR)
        tile = cv2.copyMakeBorder(tile, 0, 44, 0, 4, cv2.BORDER_CONSTANT, value=(255, 255, 255))
        wave = values.style_weights.get("the_wave", 0.0)
        for row, text in enumerate((f"frame {frame.index}  t={track.timeline.times[frame.index]:.2f}s",
                                    f"strength {values.strength:.2f}  wave {wave:.2f}")):
            cv2.putText(tile, text, (6, 270 + 17 + 18 * row), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (40, 40, 40), 1,
                        cv2.LINE_AA)
        tiles.append(tile)
    strip = np.vstack([np.hstack(tiles[:3]), np.hstack(tiles[3:])])
    out = Path(__file__).parents[1] / "docs" / "music_strip.jpg"
    cv2.imwrite(str(out), strip, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return out


if __name__ == "__main__":
    print(f"wrote {main()}")
