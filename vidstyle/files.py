"""What vidstyle may read, replace and create: one set of checks for ``run``, ``image`` and ``webcam``,
and OS errors turned into one line that says what failed and where.

The rules (README "What vidstyle promises about your files"): the input is never an output; an existing
output is replaced only with ``--overwrite`` and only when it is a file of the kind vidstyle writes (a
video for ``.mp4 .mov .mkv``, an image of its format for frames and pictures), never a folder, a device
or another kind of file; a work folder is only ever one vidstyle made.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vidstyle.errors import StorageError, UserInputError
from vidstyle.io.sequence import existing_frames, is_pattern

MANIFEST = "manifest.json"  # the file that marks a vidstyle work folder (vidstyle.resume writes it)
MB = 1_000_000

# The first bytes of each kind of file vidstyle writes: (offset, magic) pairs, any one matching.
_ISO_BOXES = tuple((4, box) for box in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot"))
_EBML = ((0, b"\x1a\x45\xdf\xa3"),)
_MAGIC: dict[str, tuple[tuple[int, bytes], ...]] = {
    ".mp4": _ISO_BOXES + _EBML, ".mov": _ISO_BOXES + _EBML, ".mkv": _ISO_BOXES + _EBML,
    ".png": ((0, b"\x89PNG\r\n\x1a\n"),),
    ".jpg": ((0, b"\xff\xd8\xff"),), ".jpeg": ((0, b"\xff\xd8\xff"),),
    ".tif": ((0, b"II*\x00"), (0, b"MM\x00*")), ".tiff": ((0, b"II*\x00"), (0, b"MM\x00*")),
    ".bmp": ((0, b"BM"),), ".exr": ((0, b"v/1\x01"),), ".webp": ((8, b"WEBP"),),
}


def _special_kind(mode: int) -> str | None:
    """'a folder', 'a device', ... for what vidstyle never replaces; None for a regular file."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return None if stat.S_ISREG(mode) else "not a regular file"


def is_kind_vidstyle_writes(path: Path) -> bool:
    """True for an empty file or one whose first bytes match its extension (video or image format)."""
    magic = _MAGIC.get(path.suffix.lower())
    with open(path, "rb") as f:
        head = f.read(16)
    if not head:
        return True
    return magic is not None and any(head[o:o + len(m)] == m for o, m in magic)


def check_replaceable(out: Path, overwrite: bool) -> None:
    """Refuse an existing ``out`` unless ``overwrite`` and it is a file of the kind vidstyle writes."""
    try:
        st = os.stat(out)
    except (FileNotFoundError, NotADirectoryError):
        return  # nothing there (or a dangling link, which the atomic rename replaces)
    except OSError as exc:
        raise UserInputError(f"cannot inspect the output {out}: {exc.strerror}") from None
    special = _special_kind(st.st_mode)
    if special:
        raise UserInputError(f"the output {out} is {special}; vidstyle replaces only files it writes, "
                             "even with --overwrite: choose another name")
    if not overwrite:
        raise UserInputError(f"the output {out} exists; add --overwrite to replace it")
    try:
        ok = is_kind_vidstyle_writes(out)
    except OSError as exc:
        raise UserInputError(f"cannot read the existing output {out}: {exc.strerror}") from None
    if not ok:
        raise UserInputError(f"the output {out} exists and is not a {out.suffix or 'video'} file vidstyle "
                             "could have written; --overwrite replaces only those: choose another name")


def refuse_input_as_output(inp: Path, out: Path) -> None:
    """The output must never be (a link to) the input."""
    same = inp.resolve() == out.resolve()
    try:
        same = same or (out.exists() and inp.exists() and os.path.samefile(inp, out))
    except OSError:
        pass
    if same:
        raise UserInputError(f"the output {out} is the input: vidstyle never overwrites its input")


def ensure_output_folder(folder: Path) -> None:
    """Create the folder an output goes into; refuse one that cannot be made or written."""
    if folder.exists() and not folder.is_dir():
        raise UserInputError(f"cannot create the output folder {folder}: a file of that name exists")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserInputError(f"cannot create the output folder {folder}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK):
        raise UserInputError(f"the output folder {folder} is not writable")


def check_frames_output(inp: Path, pattern: Path, overwrite: bool) -> list[Path]:
    """Frames already matching an output ``pattern``: refused without ``overwrite`` or when any is not an
    image of the pattern's format. Returns them (``run`` removes them before rendering)."""
    if is_pattern(inp) and Path(inp).parent.resolve() == pattern.parent.resolve() and Path(inp).name == pattern.name:
        raise UserInputError("the output pattern is the input pattern: choose another folder or name")
    frames = existing_frames(pattern) if pattern.parent.is_dir() else []
    for f in frames:
        check_replaceable(f, overwrite=True)
    if frames and not overwrite:
        raise UserInputError(f"{len(frames)} frames matching {pattern} exist already; add --overwrite "
                             "to replace them")
    return frames


def check_output(inp: Path | None, out: Path, overwrite: bool) -> None:
    """One output file (video or picture): not the input, replaceable, in a writable folder."""
    if inp is not None:
        refuse_input_as_output(inp, out)
    check_replaceable(out, overwrite)
    ensure_output_folder(out.parent)


def check_work_dir(path: Path) -> None:
    """A work folder is a new or empty folder, or one vidstyle made (it holds the manifest)."""
    if not path.exists():
        return
    if not path.is_dir():
        raise UserInputError(f"the work folder {path} is a file, not a folder: choose another --work-dir")
    try:
        entries = {p.name for p in path.iterdir()}
    except OSError as exc:
        raise UserInputError(f"cannot read the work folder {path}: {exc.strerror}") from None
    if entries and MANIFEST not in entries:
        raise UserInputError(f"the work folder {path} holds files vidstyle did not write; vidstyle removes its "
                             "work folder when done, so choose a new or empty --work-dir")


def _existing_parent(path: Path) -> Path:
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def describe_os_error(exc: OSError, action: str, where: Path, need_bytes: int | None = None) -> str:
    """One line for an OS failure: ``action`` ('cannot write the work folder'), the path, the reason;
    for a full disk the free space and what the render needs."""
    path = Path(exc.filename) if isinstance(exc.filename, (str, os.PathLike)) else where
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        holder = _existing_parent(path)
        free = shutil.disk_usage(holder).free // MB
        need = f", this render needs about {max(1, need_bytes // MB)} MB" if need_bytes else ""
        return f"no space left on the device holding {holder}: {free} MB free{need}"
    reason = exc.strerror or str(exc)
    if exc.errno == errno.EROFS:
        reason = "the filesystem is read-only"
    return f"{action} {path}: {reason}"


@contextmanager
def os_errors(action: str, where: Path, need_bytes: int | None = None) -> Iterator[None]:
    """Turn an ``OSError`` (PyAV's included) raised inside into a :class:`StorageError` (exit 2)."""
    try:
        yield
    except OSError as exc:
        raise StorageError(describe_os_error(exc, action, where, need_bytes)) from exc


def render_bytes(width: int, height: int, frames: int | None, output: Path) -> int | None:
    """About how many bytes a render writes: segments plus the final output (video, ~0.3 bit a pixel,
    painted frames are detailed), or the frames (images, ~half of raw)."""
    if not frames:
        return None
    pixels = width * height * frames
    if is_pattern(output):
        return int(pixels * 3 * 0.5)
    return int(2 * pixels * 0.3 / 8)
