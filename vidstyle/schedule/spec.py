"""The schedule, audio-react and matte options as given on the command line, checked for syntax.

Nothing here reads the input or loads a network, so a bad schedule fails at once and the CLI can build
a :class:`ControlSpec` without importing torch; :mod:`vidstyle.schedule.track` turns it into per-frame
values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from vidstyle.audio.spec import Envelope, React, parse_reacts
from vidstyle.errors import UserInputError
from vidstyle.schedule.interp import check_interp
from vidstyle.schedule.keys import Key, is_schedule, name_keys, number_keys

# Option name, allowed range of its values (inclusive low, high; None = open).
NUMBER_TARGETS = {"strength": ("--strength", 0.0, 1.0), "temporal-weight": ("--temporal-weight", 0.0, None),
                  "style-scale": ("--style-scale", 1e-3, None)}


def option_keys(target: str, spec: str) -> tuple[Key, ...]:
    option, lo, hi = NUMBER_TARGETS[target]
    keys = number_keys(spec, option)
    for key in keys:
        v = float(key.value)
        if not math.isfinite(v) or v < lo or (hi is not None and v > hi):
            span = f"between {lo:g} and {hi:g}" if hi is not None else "positive" if lo > 0 else "non-negative"
            raise UserInputError(f"{option} must be {span}, got {v:g}")
    return keys


@dataclass(frozen=True)
class ControlSpec:
    """The schedule and react options as given on the command line (CONTRACT.md spellings)."""

    strength: str = "1.0"
    temporal_weight: str | None = None
    style_scale: str = "1.0"
    style: str | None = None
    style_per_shot: str | None = None
    interp: str = "linear"
    audio_react: tuple[str, ...] = ()
    react_range: tuple[str, ...] = ()
    envelope: Envelope = field(default_factory=Envelope)
    bpm: float | None = None
    matte: str | None = None

    def __post_init__(self) -> None:
        check_interp(self.interp)
        for target, spec in self.numbers().items():
            option_keys(target, spec)
        if self.bpm is not None and self.bpm <= 0:
            raise UserInputError(f"--bpm must be positive, got {self.bpm}")
        if self.style_per_shot is not None and self.style is not None:
            raise UserInputError("give --style or --style-per-shot, not both")
        self.style_keys()
        self.shot_styles()
        reacts = self.reacts()
        if any(r.target == "blend" for r in reacts) and len(self.blend_pair() or ()) != 2:
            raise UserInputError("--audio-react blend:… needs --style A,B (two presets of one family)")

    def numbers(self) -> dict[str, str]:
        given = {"strength": self.strength, "temporal-weight": self.temporal_weight, "style-scale": self.style_scale}
        return {t: s for t, s in given.items() if s is not None}

    def style_keys(self) -> tuple[Key, ...] | None:
        return name_keys(self.style, "--style") if is_schedule(self.style) else None

    def shot_styles(self) -> list[str] | None:
        if self.style_per_shot is None:
            return None
        return [name for name, _ in parse_blend(self.style_per_shot)]

    def blend_pair(self) -> tuple[str, ...] | None:
        if not self.style or is_schedule(self.style):
            return None
        try:
            return tuple(name for name, _ in parse_blend(self.style))
        except UserInputError:  # a file path is not a blend
            return None

    def reacts(self) -> tuple[React, ...]:
        return parse_reacts(self.audio_react, self.react_range)

    def is_schedule(self, target: str) -> bool:
        """Whether the number option of ``target`` (strength, temporal-weight, style-scale) is a schedule."""
        return is_schedule(self.numbers().get(target))

    def static_number(self, target: str) -> float | None:
        """The plain number given for ``target``; None when it is a schedule or not given."""
        spec = self.numbers().get(target)
        return None if spec is None or is_schedule(spec) else float(spec)

    def style_moves(self) -> bool:
        """Whether the network's style input changes over the clip: a style schedule, shots, a blend
        reaction or a style-scale curve (only the feed-forward preset networks can follow it)."""
        return (self.style_keys() is not None or self.style_per_shot is not None or self.is_schedule("style-scale")
                or any(r.target in ("blend", "style-scale") for r in self.reacts()))

    def network_style(self) -> str | None:
        """The ``--style`` the network is built with: the first preset of a style schedule or of
        ``--style-per-shot``, else ``--style`` itself (a preset, blend or image)."""
        if (keys := self.style_keys()) is not None:
            return keys[0].value
        if (names := self.shot_styles()) is not None:
            return names[0]
        return self.style

    @property
    def is_static(self) -> bool:
        """True when every control is one value for the whole clip (today's render path)."""
        return (not any(is_schedule(s) for s in self.numbers().values()) and self.style_keys() is None
                and self.style_per_shot is None and not self.audio_react)

    def scheduled(self) -> dict[str, str]:
        """The options given as schedules, for ``run --json`` (``"schedules"``)."""
        given = {**{NUMBER_TARGETS[t][0][2:]: s for t, s in self.numbers().items()}, "style": self.style}
        out = {k: v for k, v in given.items() if is_schedule(v)}
        if self.style_per_shot is not None:
            out["style-per-shot"] = self.style_per_shot
        return out

    def fingerprint(self) -> dict[str, object]:
        """What of these options decides the painted pixels (the render's resume fingerprint adds it)."""
        return {"schedules": self.scheduled(), "interp": self.interp, "bpm": self.bpm, "matte": self.matte,
                "audio_react": [r.describe() for r in self.reacts()],
                "envelope": [self.envelope.threshold, self.envelope.attack, self.envelope.release,
                             self.envelope.smooth]}


def parse_blend(spec: str) -> list[tuple[str, float]]:
    """``NAME:W,NAME:W`` -> [(name, weight)] (:func:`vidstyle.stylize.styles.parse_blend`, loaded on use)."""
    from vidstyle.stylize.styles import parse_blend as parse

    return parse(spec)
