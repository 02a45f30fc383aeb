"""Johnson et al. 2016 per-style networks: pytorch/examples ``fast_neural_style`` ``TransformerNet``, key
for key, so a user's ``candy.pth`` loads (``--model``); :class:`JohnsonTransformer` wraps it for 0..1."""

from __future__ import annotations

import pickle
import re
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from vidstyle.checks import check_shape
from vidstyle.errors import WeightsError
from vidstyle.stylize.nets import ConvLayer, UpsampleConvLayer, check_multiple_of_4, frozen


class ResidualBlock(nn.Module):
    """pytorch/examples ``ResidualBlock``: ``x + in2(conv2(relu(in1(conv1(x)))))``.

    introduced in: https://arxiv.org/abs/1512.03385
    """

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.in1 = nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.in2 = nn.InstanceNorm2d(channels, affine=True)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x
        out = self.relu(self.in1(self.conv1(x)))
        out = self.in2(self.conv2(out))
        return out + residual


class JohnsonTransformerNet(nn.Module):
    """pytorch/examples ``fast_neural_style`` ``TransformerNet``, same module names, so its ``.pth`` load.

    Works in the original's range: ``X``: (B, 3, H, W) float RGB in 0..255, H and W multiples of 4;
    returns (B, 3, H, W) roughly in 0..255, unclipped. Use :class:`JohnsonTransformer` for 0..1.
    """

    def __init__(self) -> None:
        super().__init__()
        # Initial convolution layers
        self.conv1 = ConvLayer(3, 32, kernel_size=9, stride=1)
        self.in1 = nn.InstanceNorm2d(32, affine=True)
        self.conv2 = ConvLayer(32, 64, kernel_size=3, stride=2)
        self.in2 = nn.InstanceNorm2d(64, affine=True)
        self.conv3 = ConvLayer(64, 128, kernel_size=3, stride=2)
        self.in3 = nn.InstanceNorm2d(128, affine=True)
        # Residual layers
        self.res1 = ResidualBlock(128)
        self.res2 = ResidualBlock(128)
        self.res3 = ResidualBlock(128)
        self.res4 = ResidualBlock(128)
        self.res5 = ResidualBlock(128)
        # Upsampling layers
        self.deconv1 = UpsampleConvLayer(128, 64, kernel_size=3, upsample=2)
        self.in4 = nn.InstanceNorm2d(64, affine=True)
        self.deconv2 = UpsampleConvLayer(64, 32, kernel_size=3, upsample=2)
        self.in5 = nn.InstanceNorm2d(32, affine=True)
        self.deconv3 = ConvLayer(32, 3, kernel_size=9, stride=1)
        self.relu = nn.ReLU()

    def forward(self, X: torch.Tensor) -> torch.Tensor:  # noqa: N803 (the original's name)
        y = self.relu(self.in1(self.conv1(X)))
        y = self.relu(self.in2(self.conv2(y)))
        y = self.relu(self.in3(self.conv3(y)))
        y = self.res1(y)
        y = self.res2(y)
        y = self.res3(y)
        y = self.res4(y)
        y = self.res5(y)
        y = self.relu(self.in4(self.deconv1(y)))
        y = self.relu(self.in5(self.deconv2(y)))
        return self.deconv3(y)


class JohnsonTransformer(nn.Module):
    """:class:`JohnsonTransformerNet` with the project's range: (B, 3, H, W) 0..1 in, same shape 0..1 out.

    The 0..255 scaling stays inside (the checkpoints were trained on 0..255); the output is clipped to
    0..1 as pytorch/examples clips to 0..255 when saving. H and W must be multiples of 4.
    """

    def __init__(self) -> None:
        super().__init__()
        self.net = JohnsonTransformerNet()

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        check_shape(image, ["B", 3, "H", "W"], "image")
        check_multiple_of_4(image, "image")
        return self.net(image * 255.0).clamp(0.0, 255.0) / 255.0


# InstanceNorm buffers that PyTorch < 0.4 saved and pytorch/examples' stylize() deletes before loading.
_DEPRECATED_KEY = re.compile(r"in\d+\.running_(mean|var)$")


def load_johnson(path: str | Path, device: torch.device | str = "cpu") -> JohnsonTransformer:
    """A pytorch/examples fast_neural_style checkpoint (e.g. ``candy.pth``) as a frozen 0..1 model.

    Loads with ``weights_only=True`` (no pickled code runs); anything that is not a TransformerNet state
    dict raises WeightsError naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"Johnson checkpoint not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WeightsError(f"{path} is not a readable PyTorch state dict: {reason[:120]}") from None
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{path} is not a state dict of tensors (got {type(state).__name__})")
    state = {k: v for k, v in state.items() if not _DEPRECATED_KEY.search(k)}
    model = JohnsonTransformer()
    missing, unexpected = (
        sorted(set(model.net.state_dict()) - set(state)),
        sorted(set(state) - set(model.net.state_dict())),
    )
    if missing or unexpected:
        raise WeightsError(
            f"{path} is not a fast_neural_style TransformerNet state dict: "
            f"{len(missing)} missing keys (e.g. {missing[:1]}), {len(unexpected)} unexpected (e.g. {unexpected[:1]})"
        )
    try:
        model.net.load_state_dict(state)
    except RuntimeError:
        raise WeightsError(f"{path} has TransformerNet keys but wrong tensor shapes (a different width?)") from None
    return frozen(model, device)
