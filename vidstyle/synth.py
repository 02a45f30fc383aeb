"""Synthetic test clips: textured shapes moving over a panning background, with a melody.

Used by ``samples/make_sample.py`` (the bundled sample), the tests and the benchmarks, so each
knows exactly what motion and audio the clip holds.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

MELODY_HZ = (262, 294, 330, 349, 392, 440, 494, 523)  # C major scale, one note per half second


def _background(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A wide (H, 2W, 3) uint8 landscape: sky gradient, hills, smooth noise texture."""
    big_w = width * 2
    y = np.linspace(0, 1, height)[:, None, None]
    sky = (1 - y) * np.array([90, 150, 230]) + y * np.array([230, 220, 190])
    image = np.broadcast_to(sky, (height, big_w, 3)).copy()
    noise = cv2.resize(rng.random((height // 8 + 1, big_w // 8 + 1)).astype(np.float32), (big_w, height),
                       interpolation=cv2.INTER_CUBIC)
    xs = np.arange(big_w)
    hills = (0.62 + 0.08 * np.sin(xs / 37.0) + 0.05 * np.sin(xs / 13.0)) * height
    ground = np.arange(height)[:, None] > hills[None, :]
    image[ground] = (np.array([60, 140, 60]) * (0.7 + 0.6 * noise[ground, None]))
    image += (noise[..., None] - 0.5) * 30
    return np.clip(image, 0, 255).astype(np.uint8)


def synth_frames(count: int, width: int = 320, height: int = 180, seed: int = 0) -> list[np.ndarray]:
    """``count`` frames (H, W, 3) uint8 RGB: a 2 px/frame camera pan, a disc and a square moving over it."""
    rng = np.random.default_rng(seed)
    bg = _background(width, height, rng)
    stripes = ((np.indices((64, 64)).sum(0) // 6) % 2 * 160 + 60).astype(np.uint8)
    frames = []
    for t in range(count):
        x0 = min(2 * t, bg.shape[1] - width)
        frame = bg[:, x0:x0 + width].copy()
        cx, cy = int(width * 0.2 + 3 * t) % width, int(height * 0.45 + 20 * np.sin(t / 8))
        cv2.circle(frame, (cx, cy), height // 7, (220, 60, 40), -1)
        cv2.circle(frame, (cx - 8, cy - 8), height // 20, (250, 200, 60), -1)
        sx, sy = int(width * 0.75 - 2 * t) % width, int(height * 0.3)
        patch = np.stack([stripes, stripes // 2 + 60, 255 - stripes], -1)
        ph, pw = min(48, height - sy), min(48, width - sx)
        frame[sy:sy + ph, sx:sx + pw] = patch[:ph, :pw]
        frames.append(frame)
    return frames


def melody(seconds: float, rate: int = 44100) -> np.ndarray:
    """(2, N) float32 stereo, a scale of soft sine notes in -0.3..0.3."""
    n = int(seconds * rate)
    t = np.arange(n) / rate
    freq = np.array(MELODY_HZ)[(t * 2).astype(int) % len(MELODY_HZ)]
    envelope = np.minimum(1.0, 20 * ((t * 2) % 1)) * np.exp(-2 * ((t * 2) % 1))
    mono = (0.3 * envelope * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.stack([mono, mono * 0.8])


def write_clip(path: Path, frames: list[np.ndarray], fps: int = 24, *, audio_codec: str | None = "aac",
               video_codec: str = "libx264", crf: int = 23, rotation: int = 0) -> Path:
    """Encode ``frames`` (and ``melody`` when ``audio_codec``) with PyAV; returns ``path``."""
    import av

    path = Path(path)
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        video = out.add_stream(video_codec, rate=fps)
        video.width, video.height = width, height
        video.pix_fmt = "yuv420p"
        if video_codec == "libx264":
            video.options = {"crf": str(crf), "preset": "medium"}
        if rotation:
            video.set_display_rotation(rotation)
        audio = None
        if audio_codec:
            rate = 48000 if audio_codec in ("libopus", "opus") else 44100
            audio = out.add_stream(audio_codec, rate=rate)
            audio.layout = "stereo"
            if audio_codec == "vorbis":
                audio.codec_context.options = {"strict": "experimental"}
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        if audio is not None:
            samples = melody(len(frames) / fps, audio.rate)
            block = 1024
            for start in range(0, samples.shape[1], block):
                chunk = np.ascontiguousarray(samples[:, start:start + block])
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
                frame.sample_rate = audio.rate
                frame.pts = start
                frame.time_base = Fraction(1, audio.rate)
                for packet in audio.encode(frame):
                    out.mux(packet)
            for packet in audio.encode():
                out.mux(packet)
    return path
