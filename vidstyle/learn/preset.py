"""Learn one preset end to end: read the content, pick the starting style, fit it, save ``.npz`` + TOML.

Both ``vidstyle styles learn`` (user presets, in the user config folder) and ``scripts/learn_presets.py``
(the shipped painting presets, in ``configs/styles``) come through :func:`learn_preset`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from vidstyle.config import sha256_file
from vidstyle.errors import UserInputError
from vidstyle.io.reader import read_image
from vidstyle.learn.checkpoint import save_style_params
from vidstyle.learn.data import DEFAULT_CONTENT, CropSampler, read_content
from vidstyle.learn.settings import LearnSettings, StepCallback
from vidstyle.learn.trainer import StyleLearner, resume_or_start
from vidstyle.stylize.nets import CIN26_STYLE_NAMES
from vidstyle.stylize.weights import load_cin26
from vidstyle.stylize.styles import CIN26, builtin_params, find_preset, preset_params, write_preset


@dataclass(frozen=True)
class LearnResult:
    """What ``styles learn --json`` reports (plus where the files went)."""

    name: str
    family: str
    steps: int
    seconds: float
    loss_first: float
    loss_last: float
    toml: Path
    start: str

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "family": self.family, "steps": self.steps, "seconds": round(self.seconds, 2),
                "loss_first": self.loss_first, "loss_last": self.loss_last}


def learn_preset(name: str, painting: Path, out_dir: Path, *, content: Sequence[Path] = (),
                 settings: LearnSettings = LearnSettings(), start: str | None = None, resume: bool = False,
                 fields: Mapping[str, Any] | None = None, comment: str = "", device: torch.device | None = None,
                 on_step: StepCallback | None = None) -> LearnResult:
    """Learn ``name`` from ``painting``; write ``out_dir/name.npz`` and ``out_dir/name.toml``.

    ``start``: a cin26 preset to start from (default: the built-in style nearest the painting).
    ``fields``: extra TOML keys (artist, title, a Magenta ``vector`` ...). The checkpoint
    ``out_dir/.name.learn.pt`` is kept until the preset is written; ``resume`` continues from it.
    """
    device = device or torch.device("cpu")
    image = read_image(painting)
    frames = read_content(list(content) or [DEFAULT_CONTENT])
    net = load_cin26(device)
    learner = StyleLearner(net, image, CropSampler(frames, settings.size, seed=settings.seed), builtin_params(0),
                           settings, device)
    if start is None:
        crops = CropSampler(frames, settings.size, seed=settings.seed + 1).sample(settings.batch)[0].to(device)
        start = CIN26_STYLE_NAMES[learner.closest_builtin(crops)]
    base = find_preset(start)
    if base.params is None and base.cin_index is None:
        raise UserInputError(f"--from needs a cin26 style (built-in or learned); {start!r} has no CIN parameters")
    learner.start_from(preset_params(base))
    checkpoint = out_dir / f".{name}.learn.pt"
    resume_or_start(learner, checkpoint, resume)
    began = time.monotonic()
    params = learner.run(checkpoint, on_step)
    seconds = time.monotonic() - began
    save_style_params(out_dir / f"{name}.npz", params)
    command = (f"{settings.steps} Adam steps (lr {settings.learning_rate:g}) of {settings.batch} crops of "
               f"{settings.size} px from {start}, style weight {settings.style_weight:g}, temporal weight "
               f"{settings.temporal_weight:g}, on {painting.name}")
    toml = out_dir / f"{name}.toml"
    write_preset(toml, {"name": name, "family": CIN26, "title": painting.name, **(fields or {}),
                        "sha256": sha256_file(painting), "params": f"{name}.npz",
                        "learned": f"norm parameters of the CIN-26 network, {command}"}, comment)
    checkpoint.unlink(missing_ok=True)
    losses = learner.losses
    return LearnResult(name, CIN26, learner.step_done, seconds, losses[0], losses[-1], toml, start)
