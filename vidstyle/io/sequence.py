"""Numbered image sequences: printf patterns (``shot/frame_%04d.png``) and folders of numbered images."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from vidstyle.errors import UserInputError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".exr", ".webp")
_PRINTF = re.compile(r"%(0?\d*)d")


def is_pattern(path: str | Path) -> bool:
    """True for a printf pattern such as ``out/frame_%05d.png``."""
    return bool(_PRINTF.search(Path(path).name))


@dataclass(frozen=True)
class ImageSequence:
    """The files of one numbered sequence, in order, with the number of the first."""

    pattern: str
    first: int
    paths: tuple[Path, ...]

    def path(self, number: int) -> Path:
        return Path(self.pattern % number)


def _regex_for(pattern_name: str) -> re.Pattern[str]:
    head, spec, tail = _PRINTF.split(pattern_name, maxsplit=1)
    width = int(spec) if spec else 0
    digits = rf"(\d{{{width}}})" if spec.startswith("0") and width else r"(\d+)"
    return re.compile(re.escape(head) + digits + re.escape(tail) + r"$")


def find_sequence(path: str | Path) -> ImageSequence:
    """Resolve a printf pattern or a folder to its frames; numbering starts at the first file found.

    Gaps in the numbering are an error (a missing frame would silently shorten the shot).
    """
    path = Path(path)
    if path.is_dir():
        numbered: dict[str, list[tuple[int, Path]]] = {}
        for f in path.iterdir():
            m = re.fullmatch(r"(.*?)(\d+)(\.[A-Za-z]+)", f.name)
            if m and f.suffix.lower() in IMAGE_SUFFIXES:
                key = f"{m.group(1)}%0{len(m.group(2))}d{m.group(3)}"
                numbered.setdefault(key, []).append((int(m.group(2)), f))
        if not numbered:
            raise UserInputError(f"no numbered images in folder {path}")
        name, items = max(numbered.items(), key=lambda kv: len(kv[1]))
        pattern = str(path / name)
    elif is_pattern(path):
        folder = path.parent
        if not folder.is_dir():
            raise UserInputError(f"folder of the image sequence not found: {folder}")
        rx = _regex_for(path.name)
        items = [(int(m.group(1)), f) for f in folder.iterdir() if (m := rx.match(f.name))]
        if not items:
            raise UserInputError(f"no images match {path}")
        pattern = str(path)
    else:
        raise UserInputError(f"not an image sequence: {path}")
    items.sort()
    numbers = [n for n, _ in items]
    expected = list(range(numbers[0], numbers[0] + len(numbers)))
    if numbers != expected:
        missing = sorted(set(range(numbers[0], numbers[-1] + 1)) - set(numbers))
        raise UserInputError(f"image sequence {pattern} has gaps: missing frame {missing[0]}"
                             + (f" and {len(missing) - 1} more" if len(missing) > 1 else ""))
    return ImageSequence(pattern=pattern, first=numbers[0], paths=tuple(p for _, p in items))


def existing_frames(pattern: str | Path) -> list[Path]:
    """Files already matching an output pattern (refused without --overwrite)."""
    pattern = Path(pattern)
    if not pattern.parent.is_dir():
        return []
    rx = _regex_for(pattern.name)
    return sorted(f for f in pattern.parent.iterdir() if rx.match(f.name))


def first_output_number(input_first: int | None, skipped: int = 0, start_number: int | None = None) -> int:
    """Number of the first written frame: ``--start-number`` if given; else, for sequence input, the
    input's own number of the first rendered frame (its first number plus frames skipped by --start);
    else 1."""
    if start_number is not None:
        if start_number < 0:
            raise UserInputError(f"--start-number must not be negative, got {start_number}")
        return start_number
    return input_first + skipped if input_first is not None else 1
