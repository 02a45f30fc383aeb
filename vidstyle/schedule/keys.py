"""Deforum's schedule syntax ``"K:(V), K:(V), …"``: parse once, resolve keys to seconds later.

K is a frame index (``48``), seconds (``2.5s``) or beats (``8b``, needs a tempo). V is a number for
``--strength``/``--temporal-weight``/``--style-scale`` and a preset name for ``--style``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from vidstyle.errors import UserInputError

_ITEM = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([sb]?)\s*:\s*\(\s*([^()]*?)\s*\)\s*(?:,|$)")
_LOOKS_LIKE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*[sb]?\s*:\s*\(")
_NAME = re.compile(r"[a-z0-9_]+")
EXAMPLE = '"0:(1.0), 48:(0.3)" (keys: frames 48, seconds 2.5s, beats 8b)'


@dataclass(frozen=True)
class Key:
    """One keyframe: ``at`` in ``unit`` (``f`` frames, ``s`` seconds, ``b`` beats) and its raw value."""

    at: float
    unit: str
    value: str

    def seconds(self, frame_times: np.ndarray, fps: float, bpm: float | None, option: str) -> float:
        """Time of this key from the first rendered frame. Frame keys use the frames' own times (VFR-safe);
        keys past the clip continue at the nominal ``fps``."""
        if self.unit == "s":
            return self.at
        if self.unit == "b":
            if not bpm:
                raise UserInputError(f"{option} uses beat keys ({self.at:g}b) but no tempo is known: the input "
                                     "has no audio to track beats in; give --bpm")
            return self.at * 60.0 / bpm
        index = int(self.at)
        if index < len(frame_times):
            return float(frame_times[index])
        last = float(frame_times[-1]) if len(frame_times) else 0.0
        return last + (index - len(frame_times) + 1) / fps


def is_schedule(spec: str | None) -> bool:
    """True when ``spec`` is written as a schedule (starts with ``K:(``) rather than a plain value."""
    return bool(spec) and bool(_LOOKS_LIKE.match(spec))


def parse_keys(spec: str, option: str) -> tuple[Key, ...]:
    """``"0:(1.0), 2s:(0.3)"`` -> keys in the order written; a malformed schedule is one clear error."""
    keys: list[Key] = []
    pos = 0
    text = spec.strip()
    while pos < len(text):
        m = _ITEM.match(text, pos)
        if not m:
            raise UserInputError(f"bad schedule for {option} at {text[pos:pos + 20]!r} in {spec!r}: "
                                 f"write K:(V), K:(V), e.g. {EXAMPLE}")
        number, unit, value = m.groups()
        if not unit and "." in number:
            raise UserInputError(f"bad key {number!r} in {option} {spec!r}: frame keys are whole numbers "
                                 "(use 2.5s for seconds)")
        if not value:
            raise UserInputError(f"empty value at key {number}{unit} in {option} {spec!r}")
        keys.append(Key(float(number), unit or "f", value))
        pos = m.end()
    if not keys:
        raise UserInputError(f"empty schedule for {option}: write K:(V), e.g. {EXAMPLE}")
    return tuple(keys)


def number_keys(spec: str, option: str) -> tuple[Key, ...]:
    """Keys whose values are numbers; a plain number is the one key ``0:(number)``."""
    keys = parse_keys(spec, option) if is_schedule(spec) else (Key(0.0, "f", spec.strip()),)
    for key in keys:
        try:
            float(key.value)
        except ValueError:
            where = f" at key {key.at:g}{'' if key.unit == 'f' else key.unit}" if is_schedule(spec) else ""
            raise UserInputError(f"{option} takes a number or a schedule {EXAMPLE}; got {key.value!r}{where}") \
                from None
    return keys


def name_keys(spec: str, option: str) -> tuple[Key, ...]:
    """Keys whose values are preset names (``--style "0:(starry_night), 10s:(the_wave)"``)."""
    keys = parse_keys(spec, option)
    for key in keys:
        if not _NAME.fullmatch(key.value):
            raise UserInputError(f"{option} schedule values are preset names (lowercase letters, digits, _); "
                                 f"got {key.value!r}")
    return keys


def key_times(keys: tuple[Key, ...], frame_times: np.ndarray, fps: float, bpm: float | None,
              option: str) -> np.ndarray:
    """Seconds of each key, sorted check included: two keys at the same time are an error."""
    times = np.array([k.seconds(frame_times, fps, bpm, option) for k in keys], dtype=np.float64)
    order = np.sort(times)
    if len(order) > 1 and np.min(np.diff(order)) < 1e-9:
        raise UserInputError(f"{option} has two keys at the same time ({order[np.argmin(np.diff(order))]:g} s)")
    return times
