"""Encoding: video segments (frames -> packets), image-sequence frames, and final assembly.

A render encodes its frames into segment files in the work folder (so a crash keeps finished
segments); :func:`assemble_video` then remuxes the segments' packets, without re-encoding, into the
output container beside the input's audio, subtitles and metadata.
"""

from __future__ import annotations

import heapq
import logging
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from vidstyle.errors import UserInputError
from vidstyle.io.atomic import atomic_output
from vidstyle.io.reader import VideoInfo

log = logging.getLogger("vidstyle")

# codec name -> (encoder, pixel format, containers that take it)
VIDEO_CODECS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "h264": ("libx264", "yuv420p", (".mp4", ".mov", ".mkv")),
    "hevc": ("libx265", "yuv420p", (".mp4", ".mov", ".mkv")),
    "prores": ("prores_ks", "yuv422p10le", (".mov", ".mkv")),
    "ffv1": ("ffv1", "yuv444p", (".mkv",)),
}
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv")
# Audio codecs each container takes as a plain copy; anything else is transcoded.
AUDIO_COPY_OK: dict[str, frozenset[str]] = {
    ".mp4": frozenset({"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"}),
    ".mov": frozenset({"aac", "mp3", "ac3", "eac3", "alac", "pcm_s16le", "pcm_s24le", "pcm_f32le"}),
    ".mkv": frozenset({"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac", "vorbis",
                       "pcm_s16le", "pcm_s24le", "pcm_f32le"}),
}
AUDIO_TRANSCODE_TO = {".mp4": "aac", ".mov": "aac", ".mkv": "libopus"}


def segment_suffix(codec: str) -> str:
    """Container of the work folder's segments: MOV keeps dts (B-frame delay) exactly; FFV1, which MOV
    does not take, is intra-only (no reordering), so NUT serves it."""
    return ".nut" if codec == "ffv1" else ".mov"


@dataclass(frozen=True)
class EncodeSettings:
    """How video is encoded. ``crf``/``preset`` apply to H.264/HEVC; ProRes uses profile 3 (HQ)."""

    codec: str = "h264"
    crf: int = 18
    preset: str = "medium"

    def __post_init__(self) -> None:
        if self.codec not in VIDEO_CODECS:
            raise UserInputError(f"--codec must be one of {', '.join(VIDEO_CODECS)}, got {self.codec!r}")
        if not 0 <= self.crf <= 51:
            raise UserInputError(f"--crf must be 0..51, got {self.crf}")


def check_output_container(output: Path, settings: EncodeSettings) -> None:
    """Refuse a codec the output container cannot hold, before any work is done."""
    suffix = output.suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise UserInputError(f"output {output}: use .mp4, .mov or .mkv, or a pattern like out/frame_%05d.png")
    if suffix not in VIDEO_CODECS[settings.codec][2]:
        raise UserInputError(f"{settings.codec} cannot be stored in {suffix}; use "
                             + " or ".join(VIDEO_CODECS[settings.codec][2]))


def padded_size(width: int, height: int, codec: str) -> tuple[int, int]:
    """4:2:0 codecs need even sizes: odd sides gain one pixel (edge replicated, recorded in metadata)."""
    if VIDEO_CODECS[codec][1].startswith("yuv420"):
        return width + width % 2, height + height % 2
    return width, height


def _colour_tags(info: VideoInfo) -> tuple[int, int, int]:
    """(colorspace, primaries, trc) for the output: the input's, or BT.709 for untagged HD."""
    c = info.color
    if c.colorspace == 2 and max(info.width, info.height) >= 1280:
        return 1, 1, 1
    return c.colorspace, c.primaries, c.trc


def video_frame(image: np.ndarray, stream, colorspace: int = 2):
    """(H, W, 3) uint8 RGB -> an av.VideoFrame in ``stream``'s pixel format and size (edges replicated
    into any padding), converted with the matrix of ``colorspace`` (libavutil enum; 1 = BT.709)."""
    from av import VideoFrame

    w, h = stream.width, stream.height
    if image.shape[1] != w or image.shape[0] != h:
        image = np.pad(image, ((0, h - image.shape[0]), (0, w - image.shape[1]), (0, 0)), mode="edge")
    frame = VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
    dst = {1: "ITU709", 5: "ITU601", 6: "ITU601"}.get(colorspace)
    return frame.reformat(format=stream.pix_fmt, dst_colorspace=dst, dst_color_range="MPEG")


class SegmentEncoder:
    """Encode uint8 (H, W, 3) RGB frames with their pts into one segment file (written atomically)."""

    def __init__(self, path: Path, info: VideoInfo, settings: EncodeSettings) -> None:
        self.path = path
        self.info = info
        self.settings = settings
        self._atomic = atomic_output(path)
        self._container = None

    def __enter__(self) -> "SegmentEncoder":
        import av

        tmp = self._atomic.__enter__()
        encoder, pix_fmt, _ = VIDEO_CODECS[self.settings.codec]
        self._container = av.open(str(tmp), "w", format=segment_suffix(self.settings.codec)[1:])
        stream = self._container.add_stream(encoder, rate=self.info.frame_rate)
        stream.width, stream.height = padded_size(self.info.width, self.info.height, self.settings.codec)
        stream.pix_fmt = pix_fmt
        stream.time_base = self.info.time_base
        stream.codec_context.time_base = self.info.time_base
        self._space, primaries, trc = _colour_tags(self.info)
        cc = stream.codec_context
        cc.colorspace, cc.color_primaries, cc.color_trc = self._space, primaries, trc
        cc.color_range = 1  # limited (TV) range, what players expect from yuv420p
        if encoder == "libx264":
            # mbtree off: with it, x264's CRF output changed from run to run here (measured: same frames,
            # different bitstreams when other threads ran), and a resumed render must equal a fresh one.
            stream.options = {"crf": str(self.settings.crf), "preset": self.settings.preset,
                              "x264-params": "mbtree=0"}
        elif encoder == "libx265":
            stream.options = {"crf": str(self.settings.crf), "preset": self.settings.preset}
        elif encoder == "prores_ks":
            stream.options = {"profile": "3"}
        stream.thread_type = "AUTO"
        self._stream = stream
        return self

    def write(self, image: np.ndarray, pts: int) -> None:
        frame = video_frame(image, self._stream, self._space)
        frame.pts = pts
        frame.time_base = self.info.time_base
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                for packet in self._stream.encode():
                    self._container.mux(packet)
            self._container.close()
        finally:
            self._atomic.__exit__(exc_type, exc, tb)


class FrameFolderWriter:
    """Write frames as numbered images into a segment folder (PNG/TIFF), rotation baked into pixels.

    Files are named by their 0-based render index; :func:`assemble_sequence` renumbers them.
    """

    def __init__(self, folder: Path, suffix: str, rotation: int) -> None:
        self.folder, self.suffix, self.rotation = folder, suffix, rotation
        self._tmp = folder.with_name(folder.name + ".partial")

    def __enter__(self) -> "FrameFolderWriter":
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._tmp.mkdir(parents=True)
        return self

    def write(self, image: np.ndarray, index: int) -> None:
        if self.rotation:
            image = np.rot90(image, k=self.rotation // 90)
        bgr = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2BGR)
        if not cv2.imwrite(str(self._tmp / f"{index:09d}{self.suffix}"), bgr):
            raise UserInputError(f"cannot write {self.suffix} frames into {self._tmp}")

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            os.replace(self._tmp, self.folder)
        else:
            shutil.rmtree(self._tmp, ignore_errors=True)


def assemble_sequence(segment_folders: list[Path], pattern: str, first_number: int) -> int:
    """Move segment frames to ``pattern`` numbered from ``first_number``; returns the frame count."""
    Path(pattern).parent.mkdir(parents=True, exist_ok=True)
    number = first_number
    for folder in segment_folders:
        for f in sorted(folder.iterdir()):
            os.replace(f, pattern % number)
            number += 1
    return number - first_number


# ------------------------------------------------------------------ final assembly (remux)
def _packet_time(packet) -> float:
    t = packet.dts if packet.dts is not None else packet.pts
    return float((t or 0) * packet.time_base)


def _video_packets(segments: list[Path], first_times: list[Fraction], out_stream) -> Iterator:
    """Packets of all segments in order, each shifted so its first frame shows at ``first_times`` (s).

    A segment muxer may move timestamps (edit lists, B-frame delay); shifting every segment back to
    its known start keeps the original pts exactly and lets the output muxer write its own edit list.
    """
    import av

    last_dts = None
    for seg, first_time in zip(segments, first_times):
        with av.open(str(seg)) as c:
            stream = c.streams.video[0]
            expected = int(round(first_time / stream.time_base))
            shift = min(p.pts for p in c.demux(stream) if p.pts is not None) - expected
        with av.open(str(seg)) as c:
            for packet in c.demux(c.streams.video[0]):
                if packet.size:
                    packet.pts -= shift
                    if packet.dts is not None:
                        packet.dts -= shift
                        # a gap in the pts (frames lost in a damaged input) can give the next segment's
                        # encoder delay an earlier dts than the last one: muxers need them rising
                        if last_dts is not None and packet.dts <= last_dts:
                            packet.dts = last_dts + 1
                        last_dts = packet.dts
                    packet.stream = out_stream
                    yield packet


def _copied_packets(input_path: Path, in_index: int, out_stream, t0: float, t1: float | None) -> Iterator:
    """Whole packets of one input stream overlapping [t0, t1), shifted so t0 becomes 0."""
    import av

    with av.open(str(input_path)) as c:
        stream = c.streams[in_index]
        tb = stream.time_base
        offset = int(round(t0 / tb))
        if t0 > 0:
            c.seek(int(t0 * av.time_base), backward=True)
        last_dts = None
        for packet in c.demux(stream):
            if packet.pts is None or not packet.size:
                continue
            start = float(packet.pts * tb)
            end = start + float((packet.duration or 0) * tb)
            if t0 > 0 and end <= t0:
                continue
            if t1 is not None and start >= t1:
                break
            packet.pts -= offset
            if packet.dts is not None:
                packet.dts -= offset
                if (last_dts is not None and packet.dts <= last_dts) or packet.pts < packet.dts:
                    continue  # a damaged timestamp (muxers refuse it): the packet is dropped, as ffmpeg would
                last_dts = packet.dts
            packet.stream = out_stream
            yield packet


def _transcoded_packets(input_path: Path, in_index: int, out_stream, t0: float, t1: float | None) -> Iterator:
    """Decode one input audio stream over [t0, t1) and encode it with ``out_stream``'s codec."""
    import av

    with av.open(str(input_path)) as c:
        stream = c.streams[in_index]
        if t0 > 0:
            c.seek(int(t0 * av.time_base), backward=True)
        for frame in c.decode(stream):
            if frame.time is None:
                continue
            if frame.time + frame.samples / frame.sample_rate <= t0:
                continue
            if t1 is not None and frame.time >= t1:
                break
            frame.pts = int(round((frame.time - t0) * frame.sample_rate))
            frame.time_base = Fraction(1, frame.sample_rate)
            yield from out_stream.encode(frame)
        yield from out_stream.encode()


@dataclass(frozen=True)
class AssemblyReport:
    """What :func:`assemble_video` did with each input audio stream (for --json and notices)."""

    audio_copied: int
    audio_transcoded: int
    subtitles_copied: int


def assemble_video(segments: list[Path], first_times: list[Fraction], output: Path, info: VideoInfo, *,
                   source: Path | None,
                   t0: float = 0.0, t1: float | None = None, padding: tuple[int, int] = (0, 0)) -> AssemblyReport:
    """Remux the segments' video packets into ``output`` (atomically) with the source's other streams.

    Audio is copied packet for packet when the container takes its codec, else transcoded (AAC for
    MP4/MOV, Opus for MKV) with a notice. Rotation, language and creation metadata are carried over.
    """
    import av

    suffix = output.suffix.lower()
    copied = transcoded = subs = 0
    with atomic_output(output) as tmp, av.open(str(tmp), "w") as out:
        with av.open(str(segments[0])) as first:
            out_video = out.add_stream_from_template(first.streams.video[0])
        if info.rotation:
            out_video.set_display_rotation(info.rotation)
        if padding != (0, 0):
            out.metadata["comment"] = f"vidstyle padding right={padding[0]} bottom={padding[1]}"
        streams = [_video_packets(segments, first_times, out_video)]
        if source is not None and not info.is_sequence:
            with av.open(str(source)) as src:
                for key in ("creation_time", "title", "artist", "date", "copyright"):
                    if key in src.metadata:
                        out.metadata[key] = src.metadata[key]
                lang = src.streams.video[0].metadata.get("language")
                if lang:
                    out_video.metadata["language"] = lang
                for s in src.streams:
                    if s.type == "audio":
                        name = s.codec_context.codec.canonical_name
                        if name in AUDIO_COPY_OK[suffix]:
                            o = out.add_stream_from_template(s)
                            streams.append(_copied_packets(source, s.index, o, t0, t1))
                            copied += 1
                        else:
                            target = AUDIO_TRANSCODE_TO[suffix]
                            log.warning("notice: %s audio cannot be copied into %s; transcoding to %s",
                                        name, suffix, target.replace("lib", ""))
                            o = out.add_stream(target, rate=48000 if target == "libopus" else s.rate)
                            o.layout = s.codec_context.layout.name if s.codec_context.layout else "stereo"
                            o.bit_rate = 192_000
                            streams.append(_transcoded_packets(source, s.index, o, t0, t1))
                            transcoded += 1
                    elif s.type == "subtitle" and suffix in (".mkv", ".mov", ".mp4"):
                        name = s.codec_context.codec.canonical_name
                        ok = name == "mov_text" if suffix != ".mkv" else name in ("subrip", "ass", "webvtt", "mov_text")
                        if not ok:
                            log.warning("notice: %s subtitles cannot be stored in %s; dropped", name, suffix)
                            continue
                        o = out.add_stream_from_template(s)
                        streams.append(_copied_packets(source, s.index, o, t0, t1))
                        subs += 1
                    else:
                        continue
                    lang = s.metadata.get("language")
                    if lang:
                        o.metadata["language"] = lang
        for packet in heapq.merge(*streams, key=_packet_time):
            out.mux(packet)
    return AssemblyReport(copied, transcoded, subs)
