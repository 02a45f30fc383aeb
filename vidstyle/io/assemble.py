"""Final assembly of a render: segment files remuxed (not re-encoded) into the output with the input's
audio, subtitles and metadata, or segment folders of images renumbered into the output pattern.

The timing rules live here: each segment's packets are shifted back to its first frame's pts, the
audio is cut to the frames' span (first frame to one frame after the last), and the padding a 4:2:0
codec added is recorded in the container's comment.
"""

from __future__ import annotations

import heapq
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from vidstyle.io.atomic import atomic_output
from vidstyle.io.reader import VideoInfo
from vidstyle.io.writer import padded_size

log = logging.getLogger("vidstyle")

# Audio codecs each container takes as a plain copy; anything else is transcoded.
AUDIO_COPY_OK: dict[str, frozenset[str]] = {
    ".mp4": frozenset({"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"}),
    ".mov": frozenset({"aac", "mp3", "ac3", "eac3", "alac", "pcm_s16le", "pcm_s24le", "pcm_f32le"}),
    ".mkv": frozenset({"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac", "vorbis",
                       "pcm_s16le", "pcm_s24le", "pcm_f32le"}),
}
AUDIO_TRANSCODE_TO = {".mp4": "aac", ".mov": "aac", ".mkv": "libopus"}


def assemble_sequence(segment_folders: list[Path], pattern: str, first_number: int) -> int:
    """Move segment frames to ``pattern`` numbered from ``first_number``; returns the frame count."""
    Path(pattern).parent.mkdir(parents=True, exist_ok=True)
    number = first_number
    for folder in segment_folders:
        for f in sorted(folder.iterdir()):
            os.replace(f, pattern % number)
            number += 1
    return number - first_number


def _packet_time(packet) -> float:
    t = packet.dts if packet.dts is not None else packet.pts
    return float((t or 0) * packet.time_base)


def _moved(packet, shift: int, out_stream):
    """``packet`` with pts and dts moved ``shift`` time-base units earlier, for ``out_stream``."""
    packet.pts -= shift
    if packet.dts is not None:
        packet.dts -= shift
    packet.stream = out_stream
    return packet


def _video_packets(segments: list[Path], first_pts: list[int], time_base: Fraction, out_stream) -> Iterator:
    """Packets of all segments in order, each shifted so its first frame shows at ``first_pts``.

    A segment muxer may move timestamps (edit lists, B-frame delay); shifting every segment back to
    its known start keeps the original pts exactly and lets the output muxer write its own edit list.
    """
    import av

    last_dts = None
    for seg, pts in zip(segments, first_pts):
        with av.open(str(seg)) as c:
            stream = c.streams.video[0]
            expected = int(round(pts * time_base / stream.time_base))
            shift = min(p.pts for p in c.demux(stream) if p.pts is not None) - expected
        with av.open(str(seg)) as c:
            for packet in c.demux(c.streams.video[0]):
                if packet.size:
                    packet = _moved(packet, shift, out_stream)
                    # a gap in the pts (frames lost in a damaged input) can give the next segment's
                    # encoder delay an earlier dts than the last one: muxers need them rising
                    if packet.dts is not None:
                        if last_dts is not None and packet.dts <= last_dts:
                            packet.dts = last_dts + 1
                        last_dts = packet.dts
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
            if packet.dts is not None:
                if (last_dts is not None and packet.dts <= last_dts) or packet.pts < packet.dts:
                    continue  # a damaged timestamp (muxers refuse it): the packet is dropped, as ffmpeg would
                last_dts = packet.dts
            yield _moved(packet, offset, out_stream)


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


def assemble_video(segments: list[Path], first_pts: list[int], output: Path, info: VideoInfo, *, codec: str,
                   first_time: float, last_pts: int) -> AssemblyReport:
    """Remux the segments' video packets into ``output`` (atomically) with the source's other streams.

    ``info``: the input's, with the rendered size; ``first_pts``: each segment's first pts and
    ``last_pts`` the last frame's, in ``info.time_base`` units from the first frame, which the source
    shows at ``first_time`` seconds. Audio is copied packet for packet when the container takes its
    codec, else transcoded (AAC for MP4/MOV, Opus for MKV) with a notice. Rotation, language and
    creation metadata are carried over. Audio whose packets or headers are too damaged to mux is left
    out with a warning (the video is the render's result; ffmpeg would stop).
    """
    import av

    args = (segments, first_pts, output, info)
    kwargs = {"codec": codec, "first_time": first_time, "last_pts": last_pts}
    try:
        return _remux(*args, **kwargs, other_streams=True)
    except av.FFmpegError as exc:
        if isinstance(exc, OSError) or not info.has_audio:  # a full disk, or not the source's streams
            raise
        log.warning(f"warning: the audio of {info.path} is too damaged to copy ({exc}); the output has none")
        return _remux(*args, **kwargs, other_streams=False)


def _remux(segments: list[Path], first_pts: list[int], output: Path, info: VideoInfo, *, codec: str,
                   first_time: float, last_pts: int, other_streams: bool) -> AssemblyReport:
    """:func:`assemble_video`, with the source's audio and subtitles only when ``other_streams``."""
    import av

    suffix = output.suffix.lower()
    source = None if info.is_sequence else info.path
    padding = tuple(p - s for p, s in zip(padded_size(info.width, info.height, codec), (info.width, info.height)))
    t0 = first_time
    t1 = t0 + float(last_pts * info.time_base + 1 / info.frame_rate)  # audio ends with the last frame
    copied = transcoded = 0
    with atomic_output(output) as tmp, av.open(str(tmp), "w") as out:
        with av.open(str(segments[0])) as first:
            out_video = out.add_stream_from_template(first.streams.video[0])
        if info.rotation:
            out_video.set_display_rotation(info.rotation)
        if padding != (0, 0):
            out.metadata["comment"] = f"vidstyle padding right={padding[0]} bottom={padding[1]}"
        streams = [_video_packets(segments, first_pts, info.time_base, out_video)]
        if source is not None:
            with av.open(str(source)) as src:
                for key in ("creation_time", "title", "artist", "date", "copyright"):
                    if key in src.metadata:
                        out.metadata[key] = src.metadata[key]
                lang = src.streams.video[0].metadata.get("language")
                if lang:
                    out_video.metadata["language"] = lang
                for s in src.streams if other_streams else ():
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
                    else:
                        continue
                    lang = s.metadata.get("language")
                    if lang:
                        o.metadata["language"] = lang
        for packet in heapq.merge(*streams, key=_packet_time):
            out.mux(packet)
    return AssemblyReport(copied, transcoded)
