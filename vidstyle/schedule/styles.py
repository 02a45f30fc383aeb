"""Styles over time: which presets, with which weights, on each frame; and their style tensors.

A crossfade happens in the network's style space: the Magenta (1, 100) style vectors or the CIN-26
(1, 26) style weights of the presets are mixed with the frame's weights, so all presets of a schedule
must be of one family.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from vidstyle.errors import UserInputError
from vidstyle.schedule.interp import ease_weights
from vidstyle.schedule.keys import Key, key_times
from vidstyle.stylize.styles import CIN26, all_presets, find_preset, preset_params


@dataclass(frozen=True)
class StylePlan:
    """``names``: the presets in order of appearance; ``weights``: (F, len(names)), rows sum to 1."""

    names: tuple[str, ...]
    weights: np.ndarray

    def at(self, index: int) -> dict[str, float]:
        return {n: float(w) for n, w in zip(self.names, self.weights[index]) if w > 0}


def family_of(names: tuple[str, ...] | list[str], option: str) -> str:
    """The one family of these presets; unknown names and mixed families are clear errors."""
    families = {}
    for name in names:
        families[find_preset(name).family] = name
    if len(families) > 1:
        shown = ", ".join(f"{n} ({f})" for f, n in sorted(families.items()))
        raise UserInputError(f"{option} mixes style families ({shown}): a crossfade needs presets of one "
                             "family (see `vidstyle styles list`)")
    return next(iter(families))


def _unique(names: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


def _collect(names: list[str], per_item: np.ndarray) -> StylePlan:
    """Sum the columns of ``per_item`` (F, len(names)) that name the same preset."""
    unique = _unique(names)
    weights = np.zeros((per_item.shape[0], len(unique)))
    for column, name in enumerate(names):
        weights[:, unique.index(name)] += per_item[:, column]
    return StylePlan(unique, weights)


def scheduled_styles(keys: tuple[Key, ...], times: np.ndarray, fps: float, bpm: float | None,
                     interp: str) -> StylePlan:
    """``--style "0:(a), 10s:(b)"``: crossfade from key to key (``step``: switch, ``cubic``: eased)."""
    kt = key_times(keys, times, fps, bpm, "--style")
    return _collect([k.value for k in keys], ease_weights(kt, times, interp))


def styles_per_shot(names: list[str], shot: np.ndarray) -> StylePlan:
    """``--style-per-shot a,b,c``: shot k gets ``names[k % len(names)]``, switching on the cut."""
    per_item = np.zeros((len(shot), len(names)))
    per_item[np.arange(len(shot)), shot % len(names)] = 1.0
    return _collect(names, per_item)


def blended_styles(names: tuple[str, str], mix: np.ndarray) -> StylePlan:
    """Two presets with the second's weight ``mix`` (F,) in 0..1 (``--audio-react blend:…``)."""
    mix = np.clip(mix, 0.0, 1.0)
    return StylePlan(names, np.stack([1.0 - mix, mix], axis=1))


class StyleBank:
    """Style tensors of presets, optionally at several style scales, mixed per frame.

    ``tensor_at(name, scale)`` gives the family's style input: (1, 100) Magenta vector (computed from
    the painting cropped at ``scale``) or (1, 26) CIN weights. Between the scales in ``scales`` the
    tensors are interpolated linearly, so a style-scale curve needs only a few predictor runs.
    """

    def __init__(self, names: tuple[str, ...], tensor_at: Callable[[str, float], torch.Tensor],
                 scales: tuple[float, ...] = (1.0,)) -> None:
        self.scales = np.array(sorted(set(scales)), dtype=np.float64)
        self.tensors = {n: torch.cat([tensor_at(n, float(s)) for s in self.scales]) for n in names}

    def _at_scale(self, name: str, scale: float) -> torch.Tensor:
        stack = self.tensors[name]
        if len(self.scales) == 1:
            return stack[:1]
        s = float(np.clip(scale, self.scales[0], self.scales[-1]))
        j = int(np.clip(np.searchsorted(self.scales, s, side="right") - 1, 0, len(self.scales) - 2))
        u = (s - self.scales[j]) / (self.scales[j + 1] - self.scales[j])
        return torch.lerp(stack[j:j + 1], stack[j + 1:j + 2], float(u))

    def mix(self, weights: dict[str, float], scale: float = 1.0) -> torch.Tensor:
        """The frame's style input: sum of ``weight * tensor`` over ``weights`` (which sum to 1)."""
        return sum(w * self._at_scale(n, scale) for n, w in weights.items())


def preset_tensor_at(vector_of_scale: Callable[[np.ndarray, float], torch.Tensor]
                     ) -> Callable[[str, float], torch.Tensor]:
    """``tensor_at`` for :class:`StyleBank` from the presets: CIN presets give their (1, 990) norm parameters;
    Magenta presets their painting's vector at ``scale`` when the painting is here (``vector_of_scale``
    runs the predictor), else their stored vector (the scale cannot change it)."""
    from vidstyle.io.reader import read_image

    presets = all_presets()

    def tensor_at(name: str, scale: float) -> torch.Tensor:
        preset = presets[name]
        if preset.family == CIN26:
            return preset_params(preset).unsqueeze(0)
        painting = preset.painting_path()
        if painting is not None and (scale != 1.0 or preset.vector is None):
            return vector_of_scale(read_image(painting), scale)
        if preset.vector is None:
            raise UserInputError(f"preset {name!r} has neither a stored vector nor its painting")
        return torch.tensor(preset.vector).unsqueeze(0)

    return tensor_at
