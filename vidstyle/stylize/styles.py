"""Named styles (presets) and the ``--style`` grammar of CONTRACT.md.

Resolved in order: an existing image file; a preset name; a blend ``NAME:W,NAME:W`` of presets of one
family. Painting presets (family ``magenta``) store the 100-d style vector our predictor computed from a
public-domain painting, so they work without the image; the 26 CIN styles are a family of their own.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from vidstyle.config import load_toml, shipped_config_files, user_cache_dir, user_config_dir
from vidstyle.errors import StyleNotFoundError, UserInputError
from vidstyle.stylize.nets import CIN26_STYLE_NAMES, MAGENTA_STYLE_DIM, NUM_CIN_STYLES

MAGENTA, CIN26 = "magenta", "cin26"
_NAME = re.compile(r"[a-z0-9_]+")


@dataclass(frozen=True)
class Preset:
    """A named style. ``vector``: Magenta style vector (magenta family); ``cin_index`` for cin26."""

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


def _preset_from_toml(path: Path) -> Preset:
    data = load_toml(path)
    vector = data.get("vector")
    if vector is not None and len(vector) != MAGENTA_STYLE_DIM:
        raise UserInputError(f"{path}: vector must have {MAGENTA_STYLE_DIM} numbers, got {len(vector)}")
    return Preset(
        name=data.get("name", path.stem), family=data.get("family", MAGENTA), artist=data.get("artist", ""),
        title=data.get("title", ""), year=str(data.get("year", "")), licence=data.get("licence", ""),
        vector=tuple(float(v) for v in vector) if vector is not None else None,
        source_url=data.get("source_url"), sha256=data.get("sha256"), derived_from=data.get("derived_from", ""),
        image=Path(data["image"]) if data.get("image") else None,
    )


def all_presets() -> dict[str, Preset]:
    """Shipped painting presets, the 26 CIN styles, then user presets (which may not shadow shipped ones)."""
    presets: dict[str, Preset] = {}
    for path in shipped_config_files("styles"):
        p = _preset_from_toml(path)
        presets[p.name] = p
    for i, name in enumerate(CIN26_STYLE_NAMES):
        presets[name] = Preset(name=name, family=CIN26, artist="Magenta multistyle network",
                               title=f"learned style {i}", licence="Apache-2.0 (weights)", cin_index=i)
    user = user_config_dir() / "styles"
    if user.is_dir():
        for path in sorted(user.glob("*.toml")):
            p = _preset_from_toml(path)
            presets.setdefault(p.name, p)
    return presets


@dataclass(frozen=True)
class StyleChoice:
    """What ``--style`` resolved to.

    ``magenta_vector``: (1, 100) for the arbitrary network; ``cin_weights``: (26,) summing to 1;
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
        if not _NAME.fullmatch(name):
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
        cin = torch.zeros(NUM_CIN_STYLES)
        for p, w in zip(chosen, weights):
            cin[p.cin_index] += w
        return StyleChoice(label=spec, family=CIN26, cin_weights=cin, presets=tuple(chosen))
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
