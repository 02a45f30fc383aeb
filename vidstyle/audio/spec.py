"""The ``--audio-react`` options parsed and checked: which target follows which feature, and the
envelope. Pure parsing (no numpy), so the command line builds them without loading anything."""

from __future__ import annotations

from dataclasses import dataclass

from vidstyle.errors import UserInputError

FEATURES = ("rms", "onset", "beat", "low", "mid", "high")

# What each target's --react-range defaults to: silence -> LO, the loudest hit -> HI. Temporal weight
# falls on hits so the painting may change with the music and holds steady in quiet passages.
DEFAULT_RANGES: dict[str, tuple[float, float]] = {
    "strength": (0.0, 1.0), "style-scale": (0.5, 2.0), "temporal-weight": (20.0, 2.0), "blend": (0.0, 1.0)}
TARGETS = tuple(DEFAULT_RANGES)


@dataclass(frozen=True)
class Envelope:
    """Seconds for attack, release and smoothing; ``threshold`` in 0..1 of the normalised feature."""

    threshold: float = 0.0
    attack: float = 0.0
    release: float = 0.2
    smooth: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold < 1.0:
            raise UserInputError(f"--react-threshold must be in 0..1 (not 1), got {self.threshold}")
        for name in ("attack", "release", "smooth"):
            if getattr(self, name) < 0:
                raise UserInputError(f"--react-{name} must not be negative, got {getattr(self, name)}")


@dataclass(frozen=True)
class React:
    """One ``--audio-react``: ``target`` driven by ``feature`` times ``gain``, mapped to ``lo..hi``."""

    target: str
    feature: str
    gain: float
    lo: float
    hi: float

    def describe(self) -> dict[str, object]:
        return {"target": self.target, "feature": self.feature, "gain": self.gain, "range": [self.lo, self.hi]}


def _range(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise UserInputError(f"--react-range takes LO,HI (two numbers), got {text!r}") from None
    return lo, hi


def parse_reacts(specs: tuple[str, ...] | list[str], ranges: tuple[str, ...] | list[str] = ()) -> tuple[React, ...]:
    """Parse the repeated options. No ``--react-range``: each target's default; one: for every react;
    as many as reacts: paired in order."""
    if ranges and len(ranges) not in (1, len(specs)):
        raise UserInputError(f"give one --react-range for all --audio-react or one each; got {len(ranges)} "
                             f"for {len(specs)}")
    parsed = [_range(r) for r in ranges]
    reacts = []
    for i, spec in enumerate(specs):
        parts = spec.split(":")
        if len(parts) not in (2, 3):
            raise UserInputError(f"--audio-react takes TARGET:FEATURE[:GAIN], got {spec!r}")
        target, feature = parts[0].strip(), parts[1].strip()
        if target not in TARGETS:
            raise UserInputError(f"--audio-react target must be one of {', '.join(TARGETS)}, got {target!r}")
        if feature not in FEATURES:
            raise UserInputError(f"--audio-react feature must be one of {', '.join(FEATURES)}, got {feature!r}")
        try:
            gain = float(parts[2]) if len(parts) == 3 else 1.0
        except ValueError:
            raise UserInputError(f"bad gain {parts[2]!r} in --audio-react {spec!r}") from None
        if gain <= 0:
            raise UserInputError(f"--audio-react gain must be positive, got {gain} in {spec!r}")
        lo, hi = parsed[i if len(parsed) > 1 else 0] if parsed else DEFAULT_RANGES[target]
        reacts.append(React(target, feature, gain, lo, hi))
    targets = [r.target for r in reacts]
    if len(set(targets)) != len(targets):
        raise UserInputError("each --audio-react target may be given once")
    return tuple(reacts)
