"""Regenerate samples/sample.mp4: 4 s at 24 fps, 480x270, H.264 + AAC melody (well under 1 MB).

    python samples/make_sample.py
"""

from pathlib import Path

from vidstyle.synth import synth_frames, write_clip

if __name__ == "__main__":
    out = write_clip(Path(__file__).with_name("sample.mp4"), synth_frames(96, 480, 270), fps=24, crf=26)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")
