"""Build the stylizer a command asked for: ``--method``, ``--style`` or ``--model`` -> a Stylizer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from vidstyle.errors import UserInputError
from vidstyle.io.convert import to_tensor
from vidstyle.stylize.base import Stylizer
from vidstyle.stylize.optimize import INITS, OptimizeSettings, OptimizeStylizer
from vidstyle.stylize.styles import CIN26, StyleChoice, resolve_style

if TYPE_CHECKING:
    from vidstyle.stylize.feedforward import NetworkStylizer

METHODS = ("feedforward", "optimize")
# --method optimize starts from the content frame, coarse to fine, unless --init says otherwise. Starting
# from the style's feed-forward painting at full size did not reach the same loss in fewer iterations:
# 120-133 full-size L-BFGS iterations against the content start's 100 (plus 100 at half size), about the
# same time (0.93-1.08x); benchmarks/optimize_init.py, README "Optimisation from the network".
DEFAULT_INIT = "content"


@dataclass(frozen=True)
class StyleRequest:
    """What the user asked for. ``style`` follows CONTRACT.md's grammar; ``model`` replaces it."""

    style: str | None
    method: str = "feedforward"
    model: Path | None = None
    iterations: int | None = None
    preserve_color: bool = False
    style_scale: float = 1.0
    init: str | None = None  # --method optimize's start (None: DEFAULT_INIT)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise UserInputError(f"--method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.init is not None and self.init not in INITS:
            raise UserInputError(f"--init must be one of {', '.join(INITS)}, got {self.init!r}")
        if self.init is not None and self.method != "optimize":
            raise UserInputError("--init applies to --method optimize, not to the feed-forward networks")
        if self.model is None and not self.style:
            raise UserInputError("give --style NAME|IMAGE (see `vidstyle styles list`) or --model PATH")
        if self.style_scale <= 0:
            raise UserInputError(f"--style-scale must be positive, got {self.style_scale}")

    @property
    def label(self) -> str:
        return str(self.model) if self.model is not None else str(self.style)


def _painting_tensor(choice: StyleChoice, device: torch.device) -> torch.Tensor:
    """The style image as (1, 3, h, w) 0..1, or a clear error saying how to get it."""
    if choice.painting is None:
        name = choice.presets[0].name if choice.presets else choice.label
        raise UserInputError(
            f"--method optimize needs the painting itself: run `vidstyle styles fetch {name}` "
            "or pass the image with --style PATH"
        )
    return to_tensor(choice.painting, device)


def style_input(request: StyleRequest, device: torch.device) -> torch.Tensor:
    """The feed-forward network's style input for ``request.style``: a Magenta (1, 100) vector or CIN-26
    (1, 26) weights, on the CPU. What ``FrameProcessor.set_style`` and ``FrameControls.style`` take."""
    from vidstyle.stylize.feedforward import StyleVectorComputer

    choice = resolve_style(request.style or "", StyleVectorComputer(device, request.style_scale))
    return (choice.cin_weights if choice.family == CIN26 else choice.magenta_vector).reshape(1, -1)


def build_stylizer(request: StyleRequest, device: torch.device) -> Stylizer:
    """Load the network (or set up the optimisation) for ``request`` on ``device``."""
    from vidstyle.stylize.feedforward import JohnsonStylizer, StyleVectorComputer

    if request.model is not None:
        if request.method != "feedforward":
            raise UserInputError("--model is a feed-forward network; it cannot be used with --method optimize")
        return JohnsonStylizer(request.model, device, preserve_color=request.preserve_color)
    choice = resolve_style(request.style or "", StyleVectorComputer(device, request.style_scale))
    if request.method == "optimize":
        if choice.painting is None and all(p.cin_index is not None for p in choice.presets):
            raise UserInputError(f"{choice.label} is a built-in network style with no painting; "
                                 "--method optimize needs a painting preset or an image")
        init = request.init or DEFAULT_INIT
        settings = OptimizeSettings(**({"iterations": request.iterations} if request.iterations else {}),
                                    style_scale=request.style_scale, init=init)
        network = network_stylizer(choice, device).stylize if init == "feedforward" else None
        return OptimizeStylizer(_painting_tensor(choice, device), settings, network)
    return network_stylizer(choice, device, preserve_color=request.preserve_color)


def network_stylizer(choice: StyleChoice, device: torch.device, *, preserve_color: bool = False) -> NetworkStylizer:
    """The feed-forward network of ``choice``'s family (CIN-26 or Magenta), painting with its style."""
    from vidstyle.stylize.feedforward import Cin26Stylizer, MagentaStylizer

    if choice.family == CIN26:
        return Cin26Stylizer(choice.cin_weights, device, preserve_color=preserve_color)
    return MagentaStylizer(choice.magenta_vector, device, preserve_color=preserve_color)
