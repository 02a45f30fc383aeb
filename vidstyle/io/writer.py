"""Encoding: frames into video files (render segments, recordings) and into folders of images.

A render encodes its frames into segment files in the work folder (so a crash keeps finished
segments); :mod:`vidstyle.io.assemble` then remuxes them into the output. Every writer is a context
manager whose file appears only when its block ends without an error.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vidstyle.errors import UserInputError
from vidstyle.io.atomic import atomic_output
from vidstyle.io.reader import VideoInfo

# codec name -> (encoder, pixel format, containers that take it)
VIDEO_CODECS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "h264": ("libx264", "yuv420p", (".mp4", ".mov", ".mkv")),
    "hevc": ("libx265", "yuv420p", (".mp4", ".mov", ".mkv")),
    "prores": ("prores_ks", "yuv422p10le", (".mov", ".mkv")),
    "ffv1": ("ffv1", "yuv444p", (".mkv",)),
}
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv")


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


class _AtomicWriter:
    """Base of the writers: :meth:`_open` opens the output under a temporary name, :meth:`_finish`
    flushes it; it is renamed into place only when the ``with`` block ends without an error."""

    def __enter__(self):
        with ExitStack() as stack:
            self._open(stack)
            self._files = stack.pop_all()
        return self

    def _open(self, stack: ExitStack) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        """Flush what is buffered (nothing by default)."""

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self._files.__exit__(exc_type, exc, tb)
            return
        with self._files:  # an error while flushing removes the temporary output too
            self._finish()


class SegmentEncoder(_AtomicWriter):
    """Encode uint8 (H, W, 3) RGB frames with their pts into one video file, written atomically.

    Use as a context manager: the file appears at ``path`` only when the block ends without an error
    (render segments in the work folder, and webcam recordings).
    """

    def __init__(self, path: Path, info: VideoInfo, settings: EncodeSettings) -> None:
        self.path = path
        self.info = info
        self.settings = settings

    def __enter__(self) -> SegmentEncoder:
        return super().__enter__()

    def _open(self, stack: ExitStack) -> None:
        import av

        tmp = stack.enter_context(atomic_output(self.path))
        self._container = stack.enter_context(av.open(str(tmp), "w", format=segment_suffix(self.settings.codec)[1:]))
        self._stream = self._add_stream()

    def _add_stream(self):
        encoder, pix_fmt, _ = VIDEO_CODECS[self.settings.codec]
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
        return stream

    def write(self, image: np.ndarray, pts: int) -> None:
        """Encode one (H, W, 3) uint8 RGB frame shown at ``pts`` (in ``info.time_base`` units)."""
        frame = video_frame(image, self._stream, self._space)
        frame.pts = pts
        frame.time_base = self.info.time_base
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def _finish(self) -> None:
        for packet in self._stream.encode():
            self._container.mux(packet)


class FrameFolderWriter(_AtomicWriter):
    """Write frames as numbered images into a folder (PNG/TIFF), rotation baked into pixels; the folder
    appears at ``folder`` only when the block ends without an error.

    Files are named by their 0-based render index; :func:`vidstyle.io.assemble.assemble_sequence`
    renumbers them.
    """

    def __init__(self, folder: Path, suffix: str, rotation: int) -> None:
        self.folder, self.suffix, self.rotation = folder, suffix, rotation

    def __enter__(self) -> FrameFolderWriter:
        return super().__enter__()

    def _open(self, stack: ExitStack) -> None:
        self._tmp = stack.enter_context(atomic_output(self.folder, folder=True))

    def write(self, image: np.ndarray, index: int) -> None:
        """Write one frame as render frame ``index``: (H, W, 3) uint8 RGB, or (H, W, 3|4) float 0..1
        (RGBA premultiplied) through :func:`vidstyle.io.images.write_image_float` (EXR half, 16-bit)."""
        if self.rotation:
            image = np.rot90(image, k=self.rotation // 90)
        path = self._tmp / f"{index:09d}{self.suffix}"
        if image.dtype == np.uint8:
            _imwrite(path, image)
        else:
            from vidstyle.io.images import write_image_float

            write_image_float(path, image)


def _imwrite(path: Path, image: np.ndarray) -> None:
    """(H, W, 3) uint8 RGB -> an image file in the format of ``path``'s extension."""
    if not cv2.imwrite(str(path), cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2BGR)):
        raise UserInputError(f"cannot write {path}: use .png, .jpg or .tif")


def write_image(path: Path, image: np.ndarray) -> None:
    """Write a (H, W, 3) uint8 RGB picture atomically; the format follows the extension."""
    with atomic_output(Path(path)) as tmp:
        _imwrite(tmp, image)
