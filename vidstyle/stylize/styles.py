"""Named styles (presets) and the ``--style`` grammar of CONTRACT.md.

Resolved in order: an existing image file; a preset name; a blend ``NAME:W,NAME:W`` of presets of one
family. A preset's family is the network that paints it: ``magenta`` presets store the 100-d style vector
our predictor computed from a painting, so they work without the image; ``cin26`` presets are the 26
built-in styles of the CIN network or a style learned for it (``vidstyle styles learn``), stored as its
norm parameters in an ``.npz`` beside the TOML. Painting presets keep their Magenta vector either way.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w
import torch

from vidstyle.config import load_toml, shipped_config_files, user_cache_dir, user_config_dir
from vidstyle.errors import StyleNotFoundError, UserInputError
from vidstyle.io.atomic import atomic_output
from vidstyle.stylize.nets import (
    CIN26_STYLE_NAMES,
    CIN_PARAM_DIM,
    MAGENTA_STYLE_DIM,
    NUM_CIN_STYLES,
)
from vidstyle.stylize.weights import load_cin26

MAGENTA, CIN26 = "magenta", "cin26"
PRESET_NAME = re.compile(r"[a-z0-9_]+")


@dataclass(frozen=True)
class Preset:
    """A named style. ``vector``: Magenta style vector; ``cin_index``: a built-in cin26 style;
    ``params``: the ``.npz`` of a learned cin26 style (norm parameters)."""

    name: str
    family: str
    artist: str = ""
    title: str = ""
    year: str = ""
    licence: str = ""
    vector: tuple[float, ...] | None = None
    cin_index: int | None = None
    source_url: str | None = None
    sha256: str | None = None
    derived_from: str = ""
    image: Path | None = None  # user presets remember their painting
    params: Path | None = None

    def painting_path(self) -> Path | None:
        """The painting on this machine, if any: a user preset's image or a fetched download."""
        if self.image is not None and self.image.is_file():
            return self.image
        cached = painting_cache_path(self.name)
        return cached if cached.is_file() else None

    def describe(self) -> dict[str, str]:
        return {"name": self.name, "family": self.family, "artist": self.artist, "title": self.title,
                "year": self.year, "licence": self.licence}


def painting_cache_path(name: str) -> Path:
    return user_cache_dir() / "paintings" / f"{name}.jpg"


def read_preset(path: Path) -> Preset:
    data = load_toml(path)
    vector = data.get("vector")
    if vector is not None and len(vector) != MAGENTA_STYLE_DIM:
        raise UserInputError(f"{path}: vector must have {MAGENTA_STYLE_DIM} numbers, got {len(vector)}")
    if data.get("family") == CIN26 and not data.get("params"):
        raise UserInputError(f"{path}: a cin26 preset needs params (the .npz of its learned style)")
    return Preset(
        name=data.get("name", path.stem), family=data.get("family", MAGENTA), artist=data.get("artist", ""),
        title=data.get("title", ""), year=str(data.get("year", "")), licence=data.get("licence", ""),
        vector=tuple(float(v) for v in vector) if vector is not None else None,
        source_url=data.get("source_url"), sha256=data.get("sha256"), derived_from=data.get("derived_from", ""),
        image=Path(data["image"]) if data.get("image") else None,
        params=path.parent / data["params"] if data.get("params") else None,
    )


def write_preset(path: Path, fields: Mapping[str, Any], comment: str = "") -> None:
    """Write a preset TOML atomically (the one writer of ``styles add`` and ``styles learn``).

    ``fields``: the keys :func:`all_presets` reads (strings, numbers, lists of numbers); ``comment``:
    lines put above them as ``#`` comments.
    """
    header = "".join(f"# {line}\n" for line in comment.splitlines())
    with atomic_output(path) as tmp:
        tmp.write_text(header + tomli_w.dumps(dict(fields)), encoding="utf-8")


def find_preset(name: str) -> Preset:
    """The preset called ``name``; an unknown name raises StyleNotFoundError with close matches."""
    presets = all_presets()
    if name not in presets:
        raise _unknown(name, presets)
    return presets[name]


def all_presets() -> dict[str, Preset]:
    """Shipped painting presets, the 26 CIN styles, then user presets (which may not shadow shipped ones)."""
    presets: dict[str, Preset] = {}
    for path in shipped_config_files("styles"):
        p = read_preset(path)
        presets[p.name] = p
    for i, name in enumerate(CIN26_STYLE_NAMES):
        presets[name] = Preset(name=name, family=CIN26, artist="Magenta multistyle network",
                               title=f"learned style {i}", licence="Apache-2.0 (weights)", cin_index=i)
    user = user_config_dir() / "styles"
    if user.is_dir():
        for path in sorted(user.glob("*.toml")):
            p = read_preset(path)
            presets.setdefault(p.name, p)
    return presets


@dataclass(frozen=True)
class StyleChoice:
    """What ``--style`` resolved to.

    ``magenta_vector``: (1, 100) for the arbitrary network; ``cin_weights``: the CIN network's style as
    norm parameters, (CIN_PARAM_DIM,), the same for built-in and learned styles (so they blend and crossfade);
    ``painting``: the style image as (H, W, 3) uint8 RGB when one is at hand (needed by optimisation).
    """

    label: str
    family: str
    magenta_vector: torch.Tensor | None = None
    cin_weights: torch.Tensor | None = None
    painting: np.ndarray | None = field(default=None, repr=False)
    presets: tuple[Preset, ...] = ()


def _unknown(name: str, presets: dict[str, Preset]) -> StyleNotFoundError:
    close = difflib.get_close_matches(name, presets, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else "; see `vidstyle styles list`"
    return StyleNotFoundError(f"unknown style {name!r}: not a file and not a preset{hint}")


def parse_blend(spec: str) -> list[tuple[str, float]]:
    """``"a:0.7,b:0.3"`` -> [("a", 0.7), ("b", 0.3)]; a bare name has weight 1."""
    parts = []
    for part in spec.split(","):
        name, _, weight = part.strip().partition(":")
        if not PRESET_NAME.fullmatch(name):
            raise UserInputError(f"bad style {spec!r}: names are lowercase letters, digits and _ "
                                 "(blend: NAME:W,NAME:W)")
        try:
            w = float(weight) if weight else 1.0
        except ValueError:
            raise UserInputError(f"bad weight {weight!r} in style {spec!r}") from None
        if w < 0:
            raise UserInputError(f"style weights must not be negative, got {w} in {spec!r}")
        parts.append((name, w))
    if sum(w for _, w in parts) <= 0:
        raise UserInputError(f"style weights in {spec!r} add up to zero")
    return parts


def resolve_style(spec: str, style_vector_of: Callable[[np.ndarray], torch.Tensor]) -> StyleChoice:
    """Resolve ``--style`` (CONTRACT.md order). ``style_vector_of`` computes a Magenta vector from an image."""
    from vidstyle.io.reader import read_image

    if not spec:
        raise UserInputError("--style is empty: give a preset name (see `vidstyle styles list`) or an image")
    path = Path(spec).expanduser()
    if path.is_file():
        image = read_image(path)
        return StyleChoice(label=path.name, family=MAGENTA, magenta_vector=style_vector_of(image), painting=image)
    presets = all_presets()
    parts = parse_blend(spec)
    chosen = []
    for name, _ in parts:
        if name not in presets:
            raise _unknown(name, presets)
        chosen.append(presets[name])
    families = {p.family for p in chosen}
    if len(families) > 1:
        raise UserInputError(f"cannot blend styles of different families ({', '.join(sorted(families))}) "
                             f"in {spec!r}")
    total = sum(w for _, w in parts)
    weights = [w / total for _, w in parts]
    family = families.pop()
    painting = None
    if len(chosen) == 1 and (p := chosen[0].painting_path()) is not None:
        painting = read_image(p)
    if family == CIN26:
        return StyleChoice(label=spec, family=CIN26, cin_weights=_cin_style(chosen, weights), painting=painting,
                           presets=tuple(chosen))
    vectors = []
    for p in chosen:
        if p.vector is not None:
            vectors.append(torch.tensor(p.vector).unsqueeze(0))
        elif p.painting_path() is not None:
            vectors.append(style_vector_of(read_image(p.painting_path())))
        else:
            raise UserInputError(f"preset {p.name!r} has neither a stored vector nor its painting")
    vector = sum(w * v for w, v in zip(weights, vectors))
    return StyleChoice(label=spec, family=MAGENTA, magenta_vector=vector, painting=painting, presets=tuple(chosen))


@functools.lru_cache(maxsize=1)
def _cin26_cpu() -> torch.nn.Module:
    return load_cin26("cpu")


def mix_params(weights: torch.Tensor) -> torch.Tensor:
    """Weights over the 26 built-in styles, (26,) -> that style as norm parameters, (CIN_PARAM_DIM,).

    The network computes the same scales and shifts from the weights, so painting with either is
    bit-identical.
    """
    with torch.no_grad():
        return _cin26_cpu().style_params(weights)[0]


def builtin_params(index: int) -> torch.Tensor:
    """Built-in CIN style ``index`` as norm parameters, (CIN_PARAM_DIM,)."""
    return mix_params(torch.eye(NUM_CIN_STYLES)[index])


def preset_params(preset: Preset) -> torch.Tensor:
    """A cin26 preset's norm parameters, (CIN_PARAM_DIM,): learned (its ``.npz``) or built in."""
    from vidstyle.learn.checkpoint import load_style_params

    if preset.params is not None:
        return load_style_params(preset.params)
    if preset.cin_index is None:
        raise UserInputError(f"preset {preset.name!r} is a cin26 style without parameters")
    return builtin_params(preset.cin_index)


def _cin_style(chosen: list[Preset], weights: list[float]) -> torch.Tensor:
    """The blend as norm parameters (CIN_PARAM_DIM,): built-ins mixed by their weights (as the network
    mixes them), plus the weighted sum of the learned presets' parameters."""
    from vidstyle.learn.checkpoint import load_style_params

    mix = torch.zeros(NUM_CIN_STYLES)
    learned = torch.zeros(CIN_PARAM_DIM)
    for p, w in zip(chosen, weights):
        if p.params is not None:
            learned += w * load_style_params(p.params)
        elif p.cin_index is not None:
            mix[p.cin_index] += w
        else:
            raise UserInputError(f"preset {p.name!r} is a cin26 style without parameters")
    return mix_params(mix) + learned


def check_new_preset_name(name: str) -> None:
    """A user preset's name: one word of a-z, 0-9 and _, not taken by another preset."""
    if not PRESET_NAME.fullmatch(name):
        raise UserInputError(f"a preset name is one word of a-z, 0-9 and _, got {name!r}")
    if name in all_presets():
        raise UserInputError(f"a preset named {name!r} exists already")
