"""All per-frame controls of a render in one object, built from the options and the input.

:class:`~vidstyle.schedule.spec.ControlSpec` holds the options as given (syntax checked);
:func:`build_track` reads the input's frame times (and, when
needed, its audio and shots) and returns a :class:`ControlTrack`, which gives each frame's values.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from vidstyle.audio.react import react_values
from vidstyle.errors import UserInputError
from vidstyle.schedule.interp import interpolate
from vidstyle.schedule.keys import key_times
from vidstyle.schedule.spec import NUMBER_TARGETS, ControlSpec, option_keys
from vidstyle.schedule.styles import StylePlan, blended_styles, family_of, scheduled_styles, styles_per_shot
from vidstyle.schedule.timeline import Timeline


@dataclass(frozen=True)
class FrameValues:
    """One frame's controls. ``temporal_weight`` None: the method's default. ``style_weights``: preset
    name -> weight (sum 1) when the style changes over the clip, empty for the static ``--style``."""

    strength: float
    temporal_weight: float | None
    style_scale: float
    style_weights: dict[str, float] = field(default_factory=dict)


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
            return tuple(sorted({float(k.value) for k in option_keys("style-scale", self.spec.style_scale)}))
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
    number_keys_ = {t: option_keys(t, s) for t, s in spec.numbers().items()}
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
