"""Decoding past damage, as ffmpeg does: packets the demuxer or decoder rejects are skipped and counted.

:class:`TolerantDecoder` opens a video file and yields its packets and frames, counting the damage in a
:class:`DamageReport`; with ``strict`` the first damage is a :class:`vidstyle.errors.DamagedInputError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from vidstyle.errors import DamagedInputError, UserInputError

MAX_DAMAGE_IN_A_ROW = 200  # read errors in a row after which the rest of the file counts as lost


@dataclass
class DamageReport:
    """What decoding skipped: packets the demuxer or decoder rejected, and frames that never came out."""

    packets: int = 0
    frames_lost: int = 0


class TolerantDecoder:
    """Packets and frames of one video file, past damaged packets (``strict``: damage is an error)."""

    def __init__(self, path: Path, strict: bool = False) -> None:
        self.path, self.strict = path, strict

    def open(self):
        """``av.open`` for reading, every failure (damaged header, undecodable metadata) as one line."""
        import av

        try:
            return av.open(str(self.path))
        except UnicodeDecodeError:
            raise UserInputError(f"cannot read metadata of {self.path}: damaged (not UTF-8)") from None
        except (av.FFmpegError, OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise UserInputError(f"cannot read {self.path}: not a video or damaged ({reason})") from None

    def _damaged(self, damage: DamageReport, where: str) -> None:
        damage.packets += 1
        if self.strict:
            raise DamagedInputError(f"{self.path} is damaged ({where}); without --strict the render "
                                    "goes on past damaged packets")

    def packets(self, container, stream, damage: DamageReport) -> Iterator:
        """The demuxed packets of ``stream``, skipping (and counting) those the demuxer rejects; after
        ``MAX_DAMAGE_IN_A_ROW`` rejections in a row the rest of the file counts as lost."""
        import av

        demuxer = container.demux(stream)
        in_a_row = 0
        while True:
            try:
                packet = next(demuxer)
            except StopIteration:
                return
            except (av.FFmpegError, OSError, ValueError):
                self._damaged(damage, "unreadable packet")
                in_a_row += 1
                if in_a_row >= MAX_DAMAGE_IN_A_ROW:
                    self._damaged(damage, f"{MAX_DAMAGE_IN_A_ROW} unreadable packets in a row")
                    return
                demuxer = container.demux(stream)  # the demuxer resynchronises at the next packet
                continue
            in_a_row = 0
            yield packet

    def frames(self, container, stream, damage: DamageReport) -> Iterator:
        """av.VideoFrames of ``stream`` from where the container stands, skipping packets that fail to
        demux or decode (counted in ``damage``, with the frames that never came out); frames of another
        size are lost too."""
        import av

        packets = frames = in_a_row = 0
        size = None
        for packet in self.packets(container, stream, damage):
            packets += 1 if packet.size else 0
            try:
                decoded = packet.decode()
            except (av.FFmpegError, ValueError):
                self._damaged(damage, f"undecodable packet at byte {packet.pos}")
                in_a_row += 1
                if in_a_row >= MAX_DAMAGE_IN_A_ROW:
                    self._damaged(damage, f"{MAX_DAMAGE_IN_A_ROW} undecodable packets in a row")
                    break
                continue
            in_a_row = 0
            for frame in decoded:
                size = size or (frame.width, frame.height)
                if (frame.width, frame.height) != size:
                    self._damaged(damage, f"a frame of {frame.width}x{frame.height} in a {size[0]}x{size[1]} video")
                    continue
                frames += 1
                yield frame
        damage.frames_lost += max(0, packets - frames)
        if damage.frames_lost and self.strict:
            raise DamagedInputError(f"{self.path} is damaged ({damage.frames_lost} frames do not decode)")
