"""Per-frame optimisation: Gatys et al. 2016 on the Caffe VGG19, with Ruder et al. 2016's temporal term.

ref: Gatys, Ecker, Bethge, "Image Style Transfer Using Convolutional Neural Networks", CVPR 2016.
ref: Ruder, Dosovitskiy, Brox, "Artistic style transfer for videos", GCPR 2016 (arXiv:1604.08610).

Convention: ``content``, ``init``, ``warped_prev``: (1, 3, H, W) float RGB, 0..1; ``mask``: (1, 1, H, W),
1 = the warped previous frame is trusted there. The result has ``content``'s shape, device and dtype.
``network``: the style's feed-forward stylizer, (1, 3, H, W) 0..1 -> the same shape and range.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import torch

from vidstyle.checks import check_same_size, check_shape
from vidstyle.errors import UserInputError
from vidstyle.io.convert import resize
from vidstyle.stylize.losses import (
    CONTENT_LAYER,
    STYLE_LAYERS,
    content_loss,
    gram_matrix,
    range_penalty,
    style_loss,
    temporal_loss,
    total_variation,
)
from vidstyle.stylize.vgg import LAYER_NAMES, POOLINGS, load_vgg19

OPTIMIZERS = ("lbfgs", "adam")
# Weight of range_penalty: enough to hold the image within about 0.02 of 0..1 without a projection step.
RANGE_WEIGHT = 1e3
INITS = ("content", "random", "feedforward")
# (1, 3, H, W) float RGB 0..1 -> the same, painted: the feed-forward network init="feedforward" starts from.
Network = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class OptimizeSettings:
    """How one frame is optimised. Weights are ratios: every term is divided by its target's energy.

    The style term of a layer is ‖G − A‖² / ‖A‖² (A the style Gram), the content term
    mean((F − P)²) / mean(P²) (P the content features), so ``style_weight / content_weight`` sets the
    balance whatever the activation scale of each layer.

    Defaults were chosen by eye on Big Buck Bunny with The Starry Night at 256 px (long side) on a CPU:
    100 L-BFGS steps per scale give a finished painting (50 is already close, 300 adds little); style 2
    paints over most of the picture while the subject stays readable (1 keeps more photo, 10 loses it);
    tv 10 damps the single-pixel colour noise. A temporal weight of 30 brings the warping error of the
    next frames about 60x below independent solves (0.013 -> 0.0002); 100 nearly freezes trusted pixels.
    """

    iterations: int = 100  # optimiser steps at full size; each coarser scale runs the same count
    optimizer: str = "lbfgs"  # "lbfgs" (Gatys) or "adam"
    learning_rate: float = 0.02  # Adam only, in 0..1 pixel units
    content_weight: float = 1.0
    style_weight: float = 2.0
    tv_weight: float = 10.0  # on total_variation of the 0..1 image
    temporal_weight: float = 30.0  # Ruder's term, used only when a warped previous frame is given
    style_layers: tuple[str, ...] = STYLE_LAYERS
    content_layer: str = CONTENT_LAYER
    style_scale: float = 1.0  # style image long side / content long side, at every scale
    scales: tuple[float, ...] = (0.5, 1.0)  # coarse to fine, fractions of the content size; ends at 1
    init: str = "content"  # "content", "random" (uniform noise) or "feedforward" (the network's painting,
    # full size only); an explicit image goes to optimize()
    pooling: str = "max"  # VGG pooling; "avg" is Gatys's suggestion
    seed: int = 0  # for init="random"

    def __post_init__(self) -> None:
        if self.iterations < 1:
            raise UserInputError(f"iterations must be at least 1, got {self.iterations}")
        if self.optimizer not in OPTIMIZERS:
            raise UserInputError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.init not in INITS:
            raise UserInputError(f"init must be one of {', '.join(INITS)}, got {self.init!r}")
        if self.pooling not in POOLINGS:
            raise UserInputError(f"pooling must be one of {', '.join(POOLINGS)}, got {self.pooling!r}")
        unknown = set(self.style_layers + (self.content_layer,)).difference(LAYER_NAMES)
        if unknown or not self.style_layers:
            raise UserInputError(f"style/content layers must be VGG19 relu names, got {sorted(unknown) or '()'}")
        if not self.scales or self.scales[-1] != 1.0 or any(not 0 < s <= 1 for s in self.scales):
            raise UserInputError(f"scales must lie in (0, 1] and end with 1.0, got {self.scales}")
        if list(self.scales) != sorted(self.scales):
            raise UserInputError(f"scales must go from coarse to fine, got {self.scales}")
        if self.style_scale <= 0:
            raise UserInputError(f"style_scale must be positive, got {self.style_scale}")
        weights = (self.content_weight, self.style_weight, self.tv_weight, self.temporal_weight)
        if min(weights) < 0:
            raise UserInputError(f"loss weights must not be negative, got {weights}")


class LossRecord(NamedTuple):
    """One evaluation of the objective; ``scale`` indexes ``settings.scales`` (always the last with ``init``)."""

    scale: int
    total: float
    content: float
    style: float
    tv: float
    temporal: float
    range: float  # RANGE_WEIGHT * range_penalty; part of total


class OptimizeResult(NamedTuple):
    image: torch.Tensor  # (1, 3, H, W) float RGB, 0..1
    history: list[LossRecord]  # every objective evaluation, in order


class OptimizeStylizer:
    """Gatys et al. optimisation towards ``style_image``: (1, 3, h, w) float RGB, 0..1.

    ``stylize(content)`` solves from scratch: coarse to fine from the content (or noise), or at full size
    from ``network``'s painting of the frame with ``init="feedforward"``. ``stylize_with_temporal`` is Ruder
    et al.'s per-frame solve: it starts from ``init`` at full size and adds the masked temporal loss. Both
    run ``optimize``. The device follows ``content``; the style Grams are computed once per style size and
    device.
    """

    name = "optimize"

    def __init__(self, style_image: torch.Tensor, settings: OptimizeSettings | None = None,
                 network: Network | None = None) -> None:
        check_shape(style_image, [1, 3, "H", "W"], "style_image")
        self.settings = settings or OptimizeSettings()
        if self.settings.init == "feedforward" and network is None:
            raise UserInputError("init 'feedforward' needs the style's feed-forward network; this style has none")
        self.network = network
        self.device = style_image.device
        self._style = style_image.detach()
        self._grams: dict[tuple[int, int, torch.device], dict[str, torch.Tensor]] = {}

    def stylize(self, content: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        """Solve from scratch. The painting is fixed when the stylizer is built: ``style`` must be None."""
        if style is not None:
            raise UserInputError("--method optimize paints the one painting it was given; a style per "
                                 "frame needs a feed-forward network")
        return self.optimize(content).image

    def stylize_with_temporal(
        self,
        content: torch.Tensor,
        init: torch.Tensor,
        warped_prev: torch.Tensor,
        mask: torch.Tensor,
        temporal_weight: float | None = None,
    ) -> torch.Tensor:
        """Ruder et al.: ``init`` is the warped previous stylized frame with disocclusions already filled."""
        return self.optimize(
            content, init=init, warped_prev=warped_prev, mask=mask, temporal_weight=temporal_weight
        ).image

    def optimize(
        self,
        content: torch.Tensor,
        *,
        init: torch.Tensor | None = None,
        warped_prev: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        temporal_weight: float | None = None,
        callback: Callable[[LossRecord], None] | None = None,
    ) -> OptimizeResult:
        """Optimise the image; ``callback`` sees every objective evaluation as it happens.

        With ``init``, or ``settings.init == "feedforward"``, only the full size runs (the start already
        holds the picture). The temporal term needs both ``warped_prev`` and ``mask``; ``temporal_weight``
        defaults to ``settings.temporal_weight``.
        """
        s = self.settings
        check_shape(content, [1, 3, "H", "W"], "content")
        if init is None and s.init == "feedforward":
            init = self._network_painting(content)
        if (warped_prev is None) != (mask is None):
            raise UserInputError("the temporal term needs both warped_prev and mask, got only one")
        for other, name in ((init, "init"), (warped_prev, "warped_prev")):
            if other is not None:
                check_shape(other, [1, 3, "H", "W"], name)
                check_same_size(content, other, f"content and {name}")
        if mask is not None:
            check_shape(mask, [1, 1, "H", "W"], "mask")
            check_same_size(content, mask, "content and mask")
        weight_t = s.temporal_weight if temporal_weight is None else float(temporal_weight)

        height, width = content.shape[-2:]
        scales = s.scales if init is None else (1.0,)
        first = len(s.scales) - len(scales)
        history: list[LossRecord] = []
        image = init
        for level, scale in enumerate(scales, start=first):
            # (w, h); coarse sizes keep 16 px, the least that reaches relu5_1.
            size = (width, height) if scale == 1.0 else (max(16, round(width * scale)), max(16, round(height * scale)))
            level_content = resize(content, size)
            if image is None:
                start = level_content if s.init == "content" else self._noise(level_content)
            else:
                start = resize(image, size)
            image = self._solve(
                start.detach(),
                level,
                level_content,
                resize(warped_prev, size) if warped_prev is not None else None,
                resize(mask, size) if mask is not None else None,
                weight_t,
                history,
                callback,
            )
        return OptimizeResult(image.clamp(0.0, 1.0).to(content.dtype), history)

    # ------------------------------------------------------------------ one scale
    def _solve(
        self,
        start: torch.Tensor,
        level: int,
        content: torch.Tensor,
        warped_prev: torch.Tensor | None,
        mask: torch.Tensor | None,
        temporal_weight: float,
        history: list[LossRecord],
        callback: Callable[[LossRecord], None] | None,
    ) -> torch.Tensor:
        s = self.settings
        vgg = load_vgg19(content.device, pooling=s.pooling)
        layers = tuple(dict.fromkeys(s.style_layers + (s.content_layer,)))
        grams = self._style_grams(content)
        with torch.no_grad():
            target = vgg(content, [s.content_layer])[s.content_layer]
        # Each term relative to its target's energy (see OptimizeSettings).
        style_weights = {k: s.style_weight / float(g.square().sum()) for k, g in grams.items()}
        content_weight = s.content_weight / max(float(target.square().mean()), 1e-12)
        use_temporal = warped_prev is not None and temporal_weight > 0

        x = start.to(torch.float32).clone(memory_format=torch.contiguous_format).requires_grad_(True)

        def objective() -> torch.Tensor:
            feats = vgg(x, layers)
            lc = content_weight * content_loss(feats[s.content_layer], target)
            ls = style_loss(feats, grams, style_weights)
            ltv = s.tv_weight * total_variation(x)
            lt = temporal_weight * temporal_loss(x, warped_prev, mask) if use_temporal else ltv.new_zeros(())
            lrange = RANGE_WEIGHT * range_penalty(x)
            total = lc + ls + ltv + lt + lrange
            record = LossRecord(level, *(float(t.detach()) for t in (total, lc, ls, ltv, lt, lrange)))
            history.append(record)
            if callback is not None:
                callback(record)
            return total

        if s.optimizer == "lbfgs":
            # One L-BFGS iteration per step(); the optimiser keeps its curvature history between calls. The
            # image is not clamped in between (a projection spoils that history and made the solve blow up
            # with the temporal term); range_penalty keeps it near 0..1 and optimize() clamps at the end.
            optimizer = torch.optim.LBFGS([x], lr=1.0, max_iter=1, history_size=50)
        else:
            optimizer = torch.optim.Adam([x], lr=s.learning_rate)

        def closure() -> torch.Tensor:
            optimizer.zero_grad(set_to_none=False)
            loss = objective()
            loss.backward()
            return loss

        for _ in range(s.iterations):
            optimizer.step(closure)
        return x.detach()

    def disocclusion_fill(self, content: torch.Tensor) -> torch.Tensor:
        """What Ruder's warped init holds where the previous frame did not see the scene: the network's
        painting with ``init="feedforward"``, else the content frame (the paper's choice)."""
        return self._network_painting(content) if self.settings.init == "feedforward" else content

    def _network_painting(self, content: torch.Tensor) -> torch.Tensor:
        """``network``'s painting of ``content`` (both (1, 3, H, W) 0..1), in ``content``'s dtype."""
        with torch.no_grad():
            return self.network(content).to(content.dtype)

    def _style_grams(self, content: torch.Tensor) -> dict[str, torch.Tensor]:
        """Target Grams of the style image scaled to ``style_scale`` × the content's long side; cached."""
        h, w = self._style.shape[-2:]
        factor = self.settings.style_scale * max(content.shape[-2:]) / max(h, w)
        size = (max(16, round(w * factor)), max(16, round(h * factor)))
        key = (*size, content.device)
        if key not in self._grams:
            vgg = load_vgg19(content.device, pooling=self.settings.pooling)
            style = resize(self._style.to(content.device, torch.float32), size)
            with torch.no_grad():
                feats = vgg(style, self.settings.style_layers)
            self._grams[key] = {k: gram_matrix(f) for k, f in feats.items()}
        return self._grams[key]

    def _noise(self, like: torch.Tensor) -> torch.Tensor:
        generator = torch.Generator(device=like.device).manual_seed(self.settings.seed)
        return torch.rand(like.shape, generator=generator, device=like.device, dtype=like.dtype)
