"""Backward warping by optical flow: the project's only ``grid_sample``.

Convention: ``flow`` is (B, 2, H, W) float pixels, (x, y), per pixel of the output:
``backward_warp(image, flow)(p) = image(p + flow(p))``. With ``flow = estimator(source, target)``
(see ``vidstyle.flow.base``), ``backward_warp(target, flow)`` rebuilds ``source``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vidstyle.checks import check_same_size, check_shape


def _pixel_grid(h: int, w: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """(1, H, W, 2) pixel coordinates (x, y) of every pixel (built each call: cheap, and compiles)."""
    ys = torch.arange(h, device=device, dtype=dtype)
    xs = torch.arange(w, device=device, dtype=dtype)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack((gx, gy), dim=-1).unsqueeze(0)


def _target_points(flow: torch.Tensor) -> torch.Tensor:
    """(B, H, W, 2) pixel coordinates p + flow(p), (x, y)."""
    _, _, h, w = flow.shape
    return _pixel_grid(h, w, flow.device, flow.dtype) + flow.permute(0, 2, 3, 1)


def backward_warp(image: torch.Tensor, flow: torch.Tensor, mode: str = "bilinear") -> torch.Tensor:
    """Sample ``image`` at ``p + flow(p)``: bilinear (or ``mode="bicubic"``, sharper when a stylized
    frame is resampled again and again), border padding (the edge pixel repeats).

    Convention:
        image: :math:`(B, C, H, W)` any float dtype; flow: :math:`(B, 2, H, W)` float pixels, (x, y),
        per pixel of the output. Returns :math:`(B, C, H, W)` in ``image``'s dtype and device;
        differentiable with respect to both arguments.

    Example:
        >>> image = torch.arange(12.0).view(1, 1, 3, 4)
        >>> flow = torch.zeros(1, 2, 3, 4)
        >>> flow[:, 0] = 1.0  # every output pixel reads its right-hand neighbour
        >>> backward_warp(image, flow)[0, 0, 0].tolist()
        [1.0, 2.0, 3.0, 3.0]
    """
    check_shape(image, ["B", "C", "H", "W"], "image")
    check_shape(flow, ["B", 2, "H", "W"], "flow")
    check_same_size(image, flow, "image and flow")
    _, _, h, w = image.shape
    points = _target_points(flow.to(image.dtype))
    # align_corners=True: -1 and 1 are the centres of the first and last pixel, so x_norm = 2x/(W-1) - 1.
    scale = torch.tensor(
        [2.0 / max(w - 1, 1), 2.0 / max(h - 1, 1)], device=image.device, dtype=image.dtype
    )
    grid = points * scale - 1.0
    return F.grid_sample(image, grid, mode=mode, padding_mode="border", align_corners=True)


def flow_in_frame(flow: torch.Tensor) -> torch.Tensor:
    """Mask of pixels whose target ``p + flow(p)`` lies inside the frame (edges included).

    Convention:
        flow: :math:`(B, 2, H, W)` float pixels, (x, y). Returns :math:`(B, 1, H, W)` in ``flow``'s
        dtype, 1 = inside ``[0, W-1] x [0, H-1]``, 0 = outside.
    """
    check_shape(flow, ["B", 2, "H", "W"], "flow")
    _, _, h, w = flow.shape
    points = _target_points(flow)
    x, y = points[..., 0], points[..., 1]
    inside = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
    return inside.unsqueeze(1).to(flow.dtype)
