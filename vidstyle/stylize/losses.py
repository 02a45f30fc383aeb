"""Pure loss functions for Gatys et al. (2016) optimisation and Ruder et al. (2016) temporal consistency.

Convention: ``image``: (B, 3, H, W) float RGB, 0..1; ``feature``: (B, C, H, W) a VGG19 ReLU output
(``vidstyle.stylize.vgg``, Caffe scale); ``gram``: (B, C, C) or (1, C, C) to broadcast over the batch;
``mask``: (B, 1, H, W), 1 = valid. Every loss returns a 0-dim tensor on the input's device and dtype.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from vidstyle.checks import check_same_size, check_shape
from vidstyle.errors import UserInputError
from vidstyle.io.convert import resize
from vidstyle.stylize.vgg import Vgg19Features

# CONTRACT.md ("Measuring temporal consistency"): the layers of the style and content distances.
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
CONTENT_LAYER = "relu4_2"


def gram_matrix(feature: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, C): F·Fᵀ / (C·H·W), with F the (C, H·W) feature map of each image.

    Example:
        >>> gram_matrix(torch.ones(1, 2, 1, 2))
        tensor([[[0.5000, 0.5000],
                 [0.5000, 0.5000]]])
    """
    check_shape(feature, ["B", "C", "H", "W"], "feature")
    b, c, h, w = feature.shape
    f = feature.reshape(b, c, h * w)
    return f @ f.transpose(1, 2) / (c * h * w)


def style_loss(
    features: Mapping[str, torch.Tensor],
    target_grams: Mapping[str, torch.Tensor],
    weights: Mapping[str, float],
) -> torch.Tensor:
    """Σ_l weights[l] · ‖G(features[l]) − target_grams[l]‖², summed over the C×C entries, mean over the batch.

    Only the layers named in ``weights`` count. With weight 1 on STYLE_LAYERS this is CONTRACT.md's style
    distance.
    """
    total = None
    for name, weight in weights.items():
        diff = gram_matrix(features[name]) - target_grams[name]
        term = weight * diff.square().sum(dim=(-2, -1)).mean()
        total = term if total is None else total + term
    if total is None:
        raise UserInputError("style_loss needs at least one layer in weights, got none")
    return total


def content_loss(feature: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """mean((feature − target)²) over every element (CONTRACT.md's content distance on relu4_2)."""
    return (feature - target).square().mean()


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between vertical neighbours plus that between horizontal neighbours.

    The squared (not absolute) form keeps the loss smooth for L-BFGS. A constant image gives 0.
    """
    check_shape(image, ["B", "C", "H", "W"], "image")
    dy = image[..., 1:, :] - image[..., :-1, :]
    dx = image[..., :, 1:] - image[..., :, :-1]
    return dy.square().mean() + dx.square().mean()


def range_penalty(image: torch.Tensor) -> torch.Tensor:
    """mean(relu(image − 1)² + relu(−image)²): 0 inside 0..1, smooth outside (a soft box for L-BFGS)."""
    return ((image - 1).clamp(min=0).square() + (-image).clamp(min=0).square()).mean()


def temporal_loss(image: torch.Tensor, warped_prev: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Ruder et al. 2016, eq. 3: mean over B·3·H·W of mask · (image − warped_prev)².

    ``warped_prev``: the previous stylized frame warped onto this one, (B, 3, H, W) 0..1; ``mask``:
    (B, 1, H, W), 1 where the flow is trusted, 0 at disocclusions and motion boundaries (weights in between
    are allowed).
    """
    check_shape(image, ["B", 3, "H", "W"], "image")
    check_shape(warped_prev, ["B", 3, "H", "W"], "warped_prev")
    check_shape(mask, ["B", 1, "H", "W"], "mask")
    check_same_size(image, warped_prev, "image and warped_prev")
    check_same_size(image, mask, "image and mask")
    return (mask * (image - warped_prev).square()).mean()


def style_distance(image: torch.Tensor, style_image: torch.Tensor, vgg: Vgg19Features) -> float:
    """CONTRACT.md's style distance: Σ over STYLE_LAYERS of ‖G(image) − G(style_image)‖², mean over the batch.

    ``image``: (B, 3, H, W) and ``style_image``: (1, 3, h, w), float RGB 0..1, used at the size given;
    CONTRACT.md measures outputs at width 384 and the style at long side 384 (the caller resizes).
    ``vgg``: the max-pool network from ``load_vgg19``.
    """
    check_shape(style_image, [1, 3, "H", "W"], "style_image")
    with torch.inference_mode():
        targets = {k: gram_matrix(f) for k, f in vgg(style_image.to(image.device), STYLE_LAYERS).items()}
        loss = style_loss(vgg(image, STYLE_LAYERS), targets, dict.fromkeys(STYLE_LAYERS, 1.0))
    return float(loss)


def content_distance(image: torch.Tensor, content: torch.Tensor, vgg: Vgg19Features) -> float:
    """CONTRACT.md's content distance: mean ‖relu4_2(image) − relu4_2(content)‖², mean over the batch.

    ``image``, ``content``: (B, 3, H, W) float RGB 0..1; ``content`` is resized (area) to ``image``'s size
    when they differ, as the reference tool does.
    """
    check_shape(image, ["B", 3, "H", "W"], "image")
    check_shape(content, ["B", 3, "H", "W"], "content")
    content = resize(content.to(image.device), (image.shape[-1], image.shape[-2]))
    with torch.inference_mode():
        a = vgg(image, [CONTENT_LAYER])[CONTENT_LAYER]
        b = vgg(content, [CONTENT_LAYER])[CONTENT_LAYER]
        return float(content_loss(a, b))
