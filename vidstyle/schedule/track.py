"""All per-frame controls of a render in one object, built from the options and the input.

:class:`ControlSpec` holds the options as given and validates their syntax (no input needed, so a bad
schedule fails before anything loads). :func:`build_track` reads the input's frame times (and, when
needed, its audio and shots) and returns a :class:`ControlTrack`, which gives each frame's values.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from vidstyle.audio.react import Envelope, React, parse_reacts, react_values
from vidstyle.errors import UserInputError
from vidstyle.schedule.interp import check_interp, interpolate
from vidstyle.schedule.keys import Key, is_schedule, key_times, name_keys, number_keys
from vidstyle.schedule.styles import StylePlan, blended_styles, family_of, scheduled_styles, styles_per_shot
from vidstyle.schedule.timeline import Timeline
from vidstyle.stylize.styles import parse_blend

# Option name, allowed range of its values (inclusive low, high; None = open).
NUMBER_TARGETS = {"strength": ("--strength", 0.0, 1.0), "temporal-weight": ("--temporal-weight", 0.0, None),
                  "style-scale": ("--style-scale", 1e-3, None)}


@dataclass(frozen=True)
class FrameValues:
    """One frame's controls. ``temporal_weight`` None: the method's default. ``style_weights``: preset
    name -> weight (sum 1) when the style changes over the clip, empty for the static ``--style``."""

    strength: float
    temporal_weight: float | None
    style_scale: float
    style_weights: dict[str, float] = field(default_factory=dict)


def _number_keys(target: str, spec: str) -> tuple[Key, ...]:
    option, lo, hi = NUMBER_TARGETS[target]
    keys = number_keys(spec, option)
    for key in keys:
        v = float(key.value)
        if not np.isfinite(v) or v < lo or (hi is not None and v > hi):
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
            _number_keys(target, spec)
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


class ControlTrack:
    """Per-frame values of a render. ``curves``: target -> (F,) float64; style weights appear as
    ``style:NAME`` curves. ``times``: seconds of each frame from the first."""

    def __init__(self, spec: ControlSpec, timeline: Timeline, curves: dict[str, np.ndarray],
                 styles: StylePlan | None, tempo: float | None) -> None:
        self.spec, self.timeline, self.styles, self.tempo = spec, timeline, styles, tempo
        self.curves = dict(curves)
        if styles is not None:
            for column, name in enumerate(styles.names):
                self.curves[f"style:{name}"] = styles.weights[:, column]

    @property
    def frames(self) -> int:
        return self.timeline.frames

    @property
    def fps(self) -> float:
        return self.timeline.fps

    def values_at(self, index: int) -> FrameValues:
        if not 0 <= index < self.frames:
            raise UserInputError(f"frame {index} is outside the clip's {self.frames} frames")
        weight = self.curves.get("temporal-weight")
        return FrameValues(
            strength=float(self.curves["strength"][index]),
            temporal_weight=None if weight is None else float(weight[index]),
            style_scale=float(self.curves["style-scale"][index]),
            style_weights=self.styles.at(index) if self.styles is not None else {},
        )

    def style_scale_grid(self, points: int = 5) -> tuple[float, ...]:
        """Scales at which to compute Magenta style vectors (:class:`StyleBank`): the schedule's key values,
        or ``points`` evenly spaced over an audio-driven curve's range; one value when constant."""
        curve = self.curves["style-scale"]
        if np.ptp(curve) == 0:
            return (float(curve[0]),)
        if not any(r.target == "style-scale" for r in self.spec.reacts()):
            return tuple(sorted({float(k.value) for k in _number_keys("style-scale", self.spec.style_scale)}))
        return tuple(np.linspace(float(curve.min()), float(curve.max()), points))

    def fingerprint(self) -> dict[str, object]:
        """The spec's fingerprint plus a digest of every curve (so audio analysis changes count too)."""
        digest = hashlib.sha256()
        for name in sorted(self.curves):
            digest.update(name.encode() + np.ascontiguousarray(self.curves[name], np.float64).tobytes())
        return {**self.spec.fingerprint(), "curves_sha256": digest.hexdigest()}


def build_track(spec: ControlSpec, timeline: Timeline) -> ControlTrack:
    """Resolve ``spec`` on ``timeline``: key times, audio features (decoded only when needed), shots."""
    from vidstyle.audio.decode import decode_audio
    from vidstyle.audio.features import audio_features, beat_times

    reacts = spec.reacts()
    number_keys_ = {t: _number_keys(t, s) for t, s in spec.numbers().items()}
    all_keys = [k for keys in number_keys_.values() for k in keys] + list(spec.style_keys() or ())
    needs_tempo = spec.bpm is None and any(k.unit == "b" for k in all_keys)
    audio = None
    if reacts or needs_tempo:
        if not timeline.has_audio:
            what = "--audio-react" if reacts else "beat keys (or give --bpm)"
            raise UserInputError(f"{timeline.path} has no audio: {what} needs a soundtrack")
        audio = decode_audio(timeline.path)
    tempo = spec.bpm if spec.bpm is not None else (beat_times(audio)[0] if needs_tempo else None)
    t = timeline.times
    curves: dict[str, np.ndarray] = {}
    for target, keys in number_keys_.items():
        kt = key_times(keys, t, timeline.fps, tempo, NUMBER_TARGETS[target][0])
        _, lo, hi = NUMBER_TARGETS[target]
        curves[target] = np.clip(interpolate(kt, [float(k.value) for k in keys], t, spec.interp), lo, hi)
    features = audio_features(audio, timeline.source_times, tuple(dict.fromkeys(r.feature for r in reacts))) \
        if reacts else {}
    reacted = {r.target: react_values(r, features[r.feature], t, spec.envelope) for r in reacts}
    for target in NUMBER_TARGETS:
        if target in reacted:
            _, lo, hi = NUMBER_TARGETS[target]
            curves[target] = np.clip(reacted[target], lo, hi)
    return ControlTrack(spec, timeline, curves, _style_plan(spec, timeline, tempo, reacted.get("blend")), tempo)


def _style_plan(spec: ControlSpec, timeline: Timeline, tempo: float | None, mix: np.ndarray | None
                ) -> StylePlan | None:
    from vidstyle.schedule.shots import detect_cuts, shot_of_frame

    if (keys := spec.style_keys()) is not None:
        family_of([k.value for k in keys], "--style")
        return scheduled_styles(keys, timeline.times, timeline.fps, tempo, spec.interp)
    if (names := spec.shot_styles()) is not None:
        family_of(names, "--style-per-shot")
        cuts = detect_cuts(timeline.images())
        return styles_per_shot(names, shot_of_frame(cuts, timeline.frames))
    if mix is not None:
        pair = spec.blend_pair()
        family_of(list(pair), "--style")
        return blended_styles(pair, mix)
    return None
