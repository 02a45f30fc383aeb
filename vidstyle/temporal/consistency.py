"""Temporal consistency for feed-forward stylizers (after Ruder, Dosovitskiy & Brox 2016/2018).

Each frame t: the optical flow w from frame t to frame t-1 on the *input* frames, a reliability mask M
of the pixels of t that frame t-1 shows, and the previous output warped onto frame t,
W = warp(O_{t-1}, w). The output solves, per pixel, the temporal loss

    min_O |O - S|² + λ M |O - W|²   =>   O = (S + λ M W) / (1 + λ M)        (S: the fresh stylization)

and then gets back part of the stroke contrast that averaging two textures takes away. The choices
below were measured with ``benchmarks/temporal.py`` against the reference measurement
(``../shared/tools/vsmeasure.py``) on cutBunny, chaplin, fox and Sintel:

- **Stillness prior.** On flat, noisy regions (a plain wall) DIS returns pixel-sized motion that is not
  there, and warping along it drags the painted texture around. A pixel keeps the flow only where the
  flow explains the input frames better than "nothing moved" does, over a window of a few pixels;
  elsewhere the previous output is copied unchanged (no resampling at all).
- **Photometric mask** (Lai et al., "Learning Blind Video Temporal Consistency", ECCV 2018):
  M = exp(-α |I_t - warp(I_{t-1})|²) on the input frames. It rejects disocclusions and scene cuts and,
  unlike the forward-backward test, keeps the many pixels where DIS is merely noisy (those flicker
  when rejected). It needs one flow per frame instead of two.
- **Motion-boundary band.** Where the flow field tears, and within a few pixels of it, M keeps only
  ``boundary_weight``: the network paints halos around edges, and a moving edge over a still, flat
  background would otherwise leave a trail of its old halos behind.
- **Contrast restoration** (Heitz & Neyret, "High-Performance By-Example Noise using a
  Histogram-Preserving Blending Operator", HPG 2018): a weighted mean of two different brush textures
  has less variance than either, which washes the painting out. Still pixels get all of the lost
  contrast back (they are copied, not resampled, so full strokes cost no steadiness); moving pixels a
  part, because contrast also makes every small flow error visible.

- **Carried detail.** On flat input the blend's finest band is replaced by frame t-1's, warped where
  the pixel moves and copied where it is still (fresh only where the mask is low): averaging the
  network's grid-bound strokes smears them into streaks along a pan, and on a still sky leaves only
  the fine crosshatch every frame shares (:func:`carried_detail`).
  Carried or blended, the fine band mixes two different sets of strokes wherever the mask is below 1, and
  a mix has less contrast than either: frame after frame the strokes fade (the fox clip's wall, frame 40:
  0.28-0.73x the per-frame output's energy in the bands finer than 8 px). ``detail_contrast`` gives part
  of it back, the same histogram-preserving correction as the blend's, never above the fresh frame's.

- **Coarse band.** The network paints beyond an object's edge (a glow around a sun, a halo around a
  head). When the object moves on, the input where the glow was has not changed, so the mask trusts
  the past, and with λ = 20 the glow fades at 1/21 a frame: a pale, smeared wake behind the object.
  The coarse colours (what a Gaussian of ``COARSE_SIGMA`` px keeps) therefore follow the fresh frame
  with a smaller λ (``coarse_weight``, 5): strokes stay as steady as before, glows follow their object
  (a test's glowing disc leaves 0.16 of its glow behind instead of 0.54). Measured cost, 48 frames,
  Magenta + The Starry Night, warp as a fraction of per-frame, without / λ 6 / λ 3: cutBunny 0.148 /
  0.155 / 0.161, chaplin 0.282 / 0.302 / 0.320. At λ 6 a dark square that leaves a textured
  background leaves a faint ghost (``test_no_ghost_trail`` fails); at 5, 4 and 3 it does not.

- **Zooms.** A feed-forward network paints strokes of one size on screen; in a camera zoom the past's
  strokes are magnified a little every frame and resampled again and again, and the carried fine band
  turns into a blurred grid with radial smears. Where the flow's affine fit says the camera zooms in,
  part of the fine band (``zoom_fresh``) comes from the fresh frame every frame (:func:`zoom_share`).

The previous output is resampled with bicubic interpolation: it is warped again every frame, and
bilinear resampling blurs the painting visibly within a second. With ``long_term`` (``--long-term``),
frames t-2 and t-4 also anchor the pixels frame t-1 did not show (``vidstyle.temporal.longterm``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from vidstyle.checks import check_shape
from vidstyle.errors import ShapeError
from vidstyle.flow.base import FlowEstimator
from vidstyle.flow.occlusion import motion_boundaries
from vidstyle.flow.warp import FlowSampler, backward_warp, flow_in_frame
from vidstyle.temporal.base import Paint
from vidstyle.temporal.longterm import History, Past, add_anchors
from vidstyle.temporal.scenecut import is_scene_cut

# Motion boundaries (:func:`vidstyle.flow.occlusion.motion_boundaries`): |∇u|² + |∇v|² > 0.01 |w|² + 0.02.
# Ruder et al. use 0.002 for the constant, which flags most of a DIS field (its patches leave small steps
# everywhere); 0.02, measured on DIS fields, keeps the real tears.
DIS_TEAR_RELATIVE = 0.01
DIS_TEAR_ABSOLUTE = 0.02
# The band around them (Gaussian σ in pixels; about 2σ wide): roughly the halo the network paints.
BOUNDARY_BAND_SIGMA = 6.0
# The stillness test averages its evidence over a Gaussian window of this σ (pixels).
STILLNESS_SIGMA = 4.0
# Contrast restoration: statistics over 3x3 windows at half size (about 6x6 pixels); largest gain.
CONTRAST_RADIUS = 1
MAX_CONTRAST_GAIN = 2.0
# Carried detail: what a Gaussian of this σ (pixels) removes, about the size of the strokes. With the
# detail's contrast (``TemporalSettings.detail_contrast``), 48 frames unencoded, learned starry_night,
# warp / style against per-frame for σ 3, 4, 5, 6: cutBunny 0.118/1.50, 0.114/1.46, 0.111/1.43,
# 0.109/1.41; chaplin 0.239/1.34, 0.236/1.34, 0.235/1.34, 0.233/1.33; fox 0.176/1.45, 0.173/1.45,
# 0.169/1.46, 0.166/1.46 (without the contrast, σ 6 had not paid).
DETAIL_SIGMA = 5.0
# ... carried only where the input itself is flat at that scale: exp(-k · its detail energy). Near an
# edge the network's strokes follow the input, and a carried halo of a passing object would linger.
FLAT_DETAIL = 100.0
# The carried detail's contrast (``TemporalSettings.detail_contrast``): its variances are measured over a
# Gaussian window of this σ (pixels); a narrower one (4) measures noisier gains and overshoots.
DETAIL_CONTRAST_SIGMA = 8.0
# Coarse band: what a Gaussian of this σ (pixels) keeps; it follows the fresh frame with its own λ.
COARSE_SIGMA = 8.0
# Zooms (``TemporalSettings.zoom_fresh``): fine strokes start to come from the fresh frame where the flow
# magnifies frame t-1 by this much area a frame (smaller local magnifications are DIS noise).
ZOOM_START = 0.01
# The painting's contrast (``TemporalSettings.energy``): the detail whose energy is matched is what a
# Gaussian of this σ (pixels) removes, strokes and swirls alike; its gain is at most MAX_ENERGY_GAIN.
# Measured on 48 frames (learned starry_night, unencoded, warp / style against per-frame, energy 1):
# σ 8 0.143/1.20, 0.277/1.03, 0.253/0.96 on cutBunny, chaplin, fox; σ 16 0.141/1.12, 0.273/1.02,
# 0.246/0.89; σ 32 0.138/1.10, 0.268/1.03, 0.238/0.88 (without: 0.111/1.43, 0.226/1.35, 0.170/1.46).
ENERGY_SIGMA = 32.0
MAX_ENERGY_GAIN = 1.5


@dataclass(frozen=True)
class TemporalSettings:
    """How strongly frame t follows the warped frame t-1.

    ``weight``: λ ≥ 0, the weight of the temporal term where the mask is 1 (0 = per-frame output).
    ``photometric``: α ≥ 0 of the mask exp(-α e), e the squared RGB error (channels summed, images
    0..1) between frame t and the warped frame t-1. Lai et al. 2018 use 50; 30 keeps more of grainy
    old film (chaplin: warp 0.26x of per-frame instead of 0.28x) and still leaves no ghost trail (20 does).
    ``boundary_weight``: fraction of the mask kept on and near motion boundaries, 0..1.
    ``stillness_margin``: how much smaller (in e, averaged over a few pixels) the flow must make the
    error than zero motion does for a pixel to move, ≥ 0.
    ``contrast``, ``still_contrast``: fraction of the local contrast lost to blending that is given
    back on moving and on still pixels, 0..1.
    ``long_term``: older frames (how many back, each ≥ 2, e.g. (2, 4)) that also anchor frame t where
    frame t-1 cannot: Ruder et al.'s long-term terms, for what a passing object hid for a frame or two.
    ``carry_detail``: on flat input, pixels carry their fine strokes from frame t-1 instead of
    averaging them (:func:`carried_detail`); False gives the plain blend, which smears the network's
    strokes into streaks along a motion and into a fine crosshatch where nothing moves.
    ``coarse_weight``: λ of the coarse band (``COARSE_SIGMA``), ≥ 0; None blends every band with
    ``weight``, which leaves the glow the network paints around a moving object behind as a wake.
    ``zoom_fresh``: growth in area a frame from which, in a camera zoom, the fine strokes are all the
    fresh frame's (:func:`zoom_share`; at 0.06 a zoom of 1.5% a frame, 3% in area, takes 40% of them
    fresh each frame); None keeps carrying them, which blurs a zoom into a grid with radial smears.
    Measured on ``scripts/motion_strips.py``'s zoom (48 frames, learned starry_night), warp / style
    against per-frame: None 0.46 / 2.33, 0.08 0.19 / 1.41, 0.06 0.24 / 1.10, 0.05 0.30 / 0.90,
    0.03 0.89 / 0.95; Big Buck Bunny, Chaplin and the fox unchanged (no camera zoom).
    ``detail_contrast``: fraction of the contrast the carried fine band loses to mixing that is given
    back, 0..1 (:func:`carried_detail`). Measured on 48 frames of Big Buck Bunny / Chaplin / the fox
    (learned starry_night, network output unencoded, a 3 px band: ``DETAIL_SIGMA`` has the 5 px one's
    figures), warp / style against per-frame: 0 0.090 / 1.77,
    0.209 / 1.43, 0.114 / 1.89; 0.5 0.118 / 1.50, 0.239 / 1.34, 0.176 / 1.45; 0.75 0.133 / 1.46,
    0.257 / 1.30, 0.211 / 1.34; 1 0.149 / 1.48, 0.275 / 1.27, 0.243 / 1.30.
    ``energy``: fraction of the detail energy the frame lost against its fresh stylization that is
    given back, one gain for the whole frame, 0..1 (:func:`restored_energy`); it shapes what is shown,
    not what the next frame follows. :func:`settings_for` sets it per network.
    """

    weight: float = 20.0
    photometric: float = 30.0
    boundary_weight: float = 0.25
    stillness_margin: float = 1e-4
    contrast: float = 0.2
    still_contrast: float = 1.0
    long_term: tuple[int, ...] = ()
    carry_detail: bool = True
    coarse_weight: float | None = 5.0
    zoom_fresh: float | None = 0.06
    detail_contrast: float = 0.5
    energy: float = 1.0


# The frame's contrast gain (``TemporalSettings.energy``) per network (``Stylizer.name``), by measurement
# (``benchmarks.temporal``, 48 frames of Big Buck Bunny, Chaplin and the fox, 2026-12-05): the learned
# CIN-26 styles lose their style to blending (1.26, 1.20, 1.40x per-frame without the gain, 0.97, 0.99,
# 0.87x with it); Magenta's keep theirs without it (0.91, 1.05, 0.96x), and there the gain only costs
# steadiness (warp 0.157, 0.303, 0.196 -> 0.165, 0.340, 0.231x; Sintel cave_2 at 1024 px 0.50 -> 0.515x).
ENERGY_BY_NETWORK = {"magenta": 0.0}


def settings_for(network: str, **fields: object) -> TemporalSettings:
    """The temporal settings for frames painted by ``network`` (a stylizer's ``name``): the defaults with
    that network's ``energy`` (:data:`ENERGY_BY_NETWORK`, else the default), then ``fields``."""
    base = {"energy": ENERGY_BY_NETWORK[network]} if network in ENERGY_BY_NETWORK else {}
    return TemporalSettings(**{**base, **fields})


def _box_mean(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over (2r+1)² windows, edges replicated; any (B, C, H, W). Sums of shifted views: on the CPU
    several times faster than ``avg_pool2d`` with stride 1."""
    h, w = x.shape[-2:]
    x = F.pad(x, (radius, radius, radius, radius), mode="replicate")
    rows = sum(x[..., :, i : i + w] for i in range(2 * radius + 1))
    return sum(rows[..., i : i + h, :] for i in range(2 * radius + 1)) / (2 * radius + 1) ** 2


def _opencv_takes(x: torch.Tensor) -> bool:
    """Whether OpenCV can compute a smoothing or resampling of ``x`` (:func:`_each_plane`): a float32
    CPU tensor outside autograd. There OpenCV's kernels are up to several times faster than torch's:
    with them (and the warps' row bands) the temporal step of a 640x360 frame takes 19 ms on two
    threads instead of 31 (``benchmarks.temporal_math``)."""
    return x.device.type == "cpu" and x.dtype == torch.float32 and not x.requires_grad


def _each_plane(x: torch.Tensor, size: Sequence[int], op: Callable[[np.ndarray, np.ndarray], object]) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, *size): ``op(plane, target)`` writes each (H, W) plane of ``x`` into its
    (*size) plane of the result (an OpenCV call with ``dst=target``)."""
    b, c, h, w = x.shape
    out = torch.empty(b, c, *size, dtype=x.dtype)
    for plane, target in zip(x.contiguous().view(b * c, h, w).numpy(), out.view(b * c, *size).numpy()):
        op(plane, target)
    return out


def _halve_plane(plane: np.ndarray, target: np.ndarray | None = None) -> np.ndarray:
    """Means of the 2x2 blocks of an (H, W) float32 plane, H and W even, into ``target``: OpenCV's
    bilinear resampling to exactly half size with half-pixel centres reads each output pixel halfway
    between two pairs of pixels (faster than its area resampling, the same means)."""
    h, w = plane.shape
    return cv2.resize(plane, (w // 2, h // 2), dst=target, interpolation=cv2.INTER_LINEAR)


def _halved(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, ceil(H/2), ceil(W/2)): means of 2x2 blocks, an odd edge replicated.
    OpenCV where it can (:func:`_halve_plane`); otherwise pairs of rows added as two halves of one long
    row, then neighbouring columns: on the CPU several times faster than ``avg_pool2d``, and 3x faster
    than four strided slices of a 3-channel image."""
    b, c, h, w = x.shape
    if h % 2 == 0 and w % 2 == 0 and _opencv_takes(x):
        return _each_plane(x, (h // 2, w // 2), _halve_plane)
    if h % 2 or w % 2:
        x = F.pad(x, (0, w % 2, 0, h % 2), mode="replicate")
        h, w = h + h % 2, w + w % 2
    rows = x.reshape(b * c, h // 2, 2 * w)
    columns = (rows[..., :w] + rows[..., w:]).view(b * c, h // 2, w // 2, 2)
    return ((columns[..., 0] + columns[..., 1]) * 0.25).view(b, c, h // 2, w // 2)


def _quartered(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, ~H/4, ~W/4): means of 4x4 blocks (of 2x2 means of 2x2 blocks where a side
    is not divisible by 4: odd edges replicated twice)."""
    h, w = x.shape[-2:]
    if h % 4 == 0 and w % 4 == 0 and _opencv_takes(x):
        return _each_plane(x, (h // 4, w // 4), lambda plane, target: _halve_plane(_halve_plane(plane), target))
    return _halved(_halved(x))


def _expanded(x: torch.Tensor, size: torch.Size) -> torch.Tensor:
    """(B, C, h, w) -> (B, C, *size), bilinear with half-pixel centres (``F.interpolate``'s
    ``align_corners=False``). OpenCV where it can (the same values to 1e-7); torch's kernel took a
    quarter of the temporal step (12 of 48 CPU-ms a 640x360 frame). Otherwise torch's, one channel
    at a time (on the CPU 2.5x faster than three channels at once)."""
    b, c, h, w = x.shape
    if _opencv_takes(x):
        return _each_plane(x, size, lambda plane, target: cv2.resize(plane, (size[1], size[0]), dst=target,
                                                                     interpolation=cv2.INTER_LINEAR))
    return F.interpolate(x.reshape(b * c, 1, h, w), size=size, mode="bilinear",
                         align_corners=False).view(b, c, *size)


def _blur(quarter: torch.Tensor, sigma: float) -> torch.Tensor:
    """A Gaussian of ``sigma`` full-size pixels on a (B, C, h, w) tensor at 1/4 size, edges replicated;
    same shape. OpenCV's separable filter where it can, torch's grouped convolutions otherwise."""
    channels = quarter.shape[1]
    radius = max(1, math.ceil(3.0 * sigma / 4))
    taps = torch.arange(-radius, radius + 1, device=quarter.device, dtype=quarter.dtype)
    kernel = torch.exp(-0.5 * (4 * taps / sigma).square())
    kernel = kernel / kernel.sum()
    if _opencv_takes(quarter):
        taps_np = kernel.numpy()
        return _each_plane(quarter, quarter.shape[-2:],
                           lambda plane, target: cv2.sepFilter2D(plane, cv2.CV_32F, taps_np, taps_np, dst=target,
                                                                 borderType=cv2.BORDER_REPLICATE))
    kernel = kernel.repeat(channels, 1, 1, 1)
    padded = F.pad(quarter, (radius, radius, radius, radius), mode="replicate")
    rows = F.conv2d(padded, kernel.view(channels, 1, 1, -1), groups=channels)
    return F.conv2d(rows, kernel.view(channels, 1, -1, 1), groups=channels)


def _smooth(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """A Gaussian blur of about ``sigma`` pixels, computed at 1/4 size (the result is smooth anyway)."""
    return _expanded(_blur(_quartered(x), sigma), x.shape[-2:])


def _smooth_each(xs: Sequence[torch.Tensor], sigma: float) -> list[torch.Tensor]:
    """:func:`_smooth` of each of several (B, C_i, H, W) tensors, joined only at 1/4 size: one blur and
    one expansion, and no full-size copy of them all."""
    quarters = torch.cat([_quartered(x) for x in xs], 1)
    return list(_expanded(_blur(quarters, sigma), xs[0].shape[-2:]).split([x.shape[1] for x in xs], 1))


def _trust(mask: torch.Tensor, weight: float) -> torch.Tensor:
    """a = 1 / (1 + λ·mask): the fresh frame's share of the blend, (B, 1, H, W)."""
    return 1.0 / (1.0 + weight * mask)


def blend(
    current: torch.Tensor,
    warped: torch.Tensor,
    mask: torch.Tensor,
    weight: float,
    *,
    contrast: float | torch.Tensor = 0.0,
) -> torch.Tensor:
    """Minimiser of |O - current|² + weight·mask·|O - warped|², optionally with contrast restored.

    ``contrast=0`` gives the closed form (current + λ·mask·warped) / (1 + λ·mask). Otherwise each
    pixel's deviation from the local mean is scaled by 1 + contrast·(g - 1), where g (1..2) is the
    ratio of the standard deviation a histogram-preserving blend would have,
    sqrt(a·var(current) + b·var(warped)), to the one the weighted mean has,
    sqrt(a²·var(current) + b²·var(warped) + 2ab·cov), with a = 1/(1 + λ·mask), b = 1 - a (Heitz &
    Neyret 2018). Variances are summed over channels (one gain for all, so colours keep their balance)
    over windows of about 6x6 pixels, computed at half size. Identical inputs, or mask 0, give
    ``current`` back.

    Convention:
        current, warped: :math:`(B, C, H, W)` float; mask: :math:`(B, 1, H, W)` in 0..1, 1 = the
        warped frame is reliable; contrast: a float or a :math:`(B, 1, H, W)` map, 0..1. Returns
        :math:`(B, C, H, W)`, not clamped.

    Example:
        >>> blend(torch.zeros(1, 1, 1, 1), torch.ones(1, 1, 1, 1), torch.ones(1, 1, 1, 1), 3.0)
        tensor([[[[0.7500]]]])
    """
    check_shape(current, ["B", "C", "H", "W"], "current")
    check_shape(mask, ["B", 1, "H", "W"], "mask")
    if warped.shape != current.shape:
        raise ShapeError(f"warped must match current {tuple(current.shape)}, got {tuple(warped.shape)}")
    return _blended(current, warped, warped - current, _trust(mask, weight), contrast)


def _blended(current: torch.Tensor, warped: torch.Tensor, difference: torch.Tensor, a: torch.Tensor,
             contrast: float | torch.Tensor) -> torch.Tensor:
    """:func:`blend` given ``difference`` = warped - current and a = :func:`_trust` (the temporal step
    reuses both). Each full-size moment is halved on its own before they are joined, so no full-size
    stack of them is ever made."""
    mixed = torch.addcmul(current, 1.0 - a, difference)
    if isinstance(contrast, float) and contrast <= 0.0:
        return mixed
    c = current.shape[1]
    moments = torch.cat([_halved(current), _halved(warped), _halved(current.square().sum(1, keepdim=True)),
                         _halved(warped.square().sum(1, keepdim=True)),
                         _halved((current * warped).sum(1, keepdim=True)), _halved(a)], 1)
    mean_c, mean_w, sq_c, sq_w, prod, a_mean = _box_mean(moments, CONTRAST_RADIUS).split([c, c, 1, 1, 1, 1], dim=1)
    b_mean = 1.0 - a_mean
    var_c = (sq_c - mean_c.square().sum(1, keepdim=True)).clamp_min(0.0)
    var_w = (sq_w - mean_w.square().sum(1, keepdim=True)).clamp_min(0.0)
    cov = prod - (mean_c * mean_w).sum(1, keepdim=True)
    preserved = a_mean * var_c + b_mean * var_w
    averaged = (a_mean.square() * var_c + b_mean.square() * var_w + 2.0 * a_mean * b_mean * cov).clamp_min(1e-8)
    lost = (preserved / averaged).sqrt().clamp(1.0, MAX_CONTRAST_GAIN) - 1.0
    size = current.shape[-2:]
    local_mean = _expanded(a_mean * mean_c + b_mean * mean_w, size)
    gain = 1.0 + contrast * _expanded(lost, size)
    return mixed.sub_(local_mean).mul_(gain).add_(local_mean)


def zoom_share(flow: torch.Tensor, fresh_from: float) -> torch.Tensor:
    """How far frame t is a camera zoom into frame t-1, 0..1: 0 up to ``ZOOM_START`` more area a frame,
    1 from ``fresh_from`` on. From the least-squares affine fit of the flow (over the whole frame, at
    1/4 size): area ratio 1 / det(I + A). A camera zoom magnifies the whole frame alike; a fit over it
    is not moved by DIS's local noise or by one object coming closer (measured on Big Buck Bunny: a
    per-pixel Jacobian of the smoothed flow found "zooms" all over it and took the fine strokes from the
    fresh frame there, which raised the warping error from 0.084x to 0.218x of per-frame).

    Convention: flow :math:`(B, 2, H, W)` frame t -> t-1 in pixels; returns :math:`(B, 1, 1, 1)`.
    """
    quarter = _quartered(flow)
    h, w = quarter.shape[-2:]
    ys = (torch.arange(h, device=flow.device, dtype=flow.dtype) - (h - 1) / 2).view(1, 1, h, 1) * 4.0
    xs = (torch.arange(w, device=flow.device, dtype=flow.dtype) - (w - 1) / 2).view(1, 1, 1, w) * 4.0
    centred = quarter - quarter.mean(dim=(2, 3), keepdim=True)
    # on a full grid the centred x and y are orthogonal: each slope is its own 1-d regression (a frame
    # one quarter-pixel high or wide has no slope that way: 0, not 0/0)
    ddx = (centred * xs).sum(dim=(2, 3)) / (xs.square().sum() * h).clamp_min(1e-6)  # (B, 2): du/dx, dv/dx
    ddy = (centred * ys).sum(dim=(2, 3)) / (ys.square().sum() * w).clamp_min(1e-6)  # (B, 2): du/dy, dv/dy
    det = (1.0 + ddx[:, 0]) * (1.0 + ddy[:, 1]) - ddy[:, 0] * ddx[:, 1]
    grown = 1.0 / det.clamp_min(0.25) - 1.0
    share = ((grown - ZOOM_START) / max(fresh_from - ZOOM_START, 1e-6)).clamp(0.0, 1.0)
    return share.view(-1, 1, 1, 1)


def carried_detail(blended: torch.Tensor, fresh: torch.Tensor, anchor: torch.Tensor, content: torch.Tensor,
                   mask: torch.Tensor, weight: float, zoom: torch.Tensor | None = None,
                   contrast: float = 0.0) -> torch.Tensor:
    """``blended`` with its fine detail (what a Gaussian of ``DETAIL_SIGMA`` px removes) taken from the
    warped frame t-1 with the share c = 1 - a (1 - mask), a = 1 / (1 + weight·mask), and from the fresh
    frame with 1 - c, wherever the input is flat at that scale.

    A feed-forward network paints its finest strokes on its own pixel grid: on a pan over a flat sky
    they stay put while the scene slides under them. The blend mixes a small part of each new frame's
    strokes into the warped past, so after n frames the past holds n copies of them shifted along the
    motion: streaks (the bundled sample's pan, frame 60: the sky's horizontal gradient energy 0.53x
    per-frame, vertical 0.77x). Carried whole where frame t-1 is reliable (c = 1 at mask 1), one set of
    strokes moves with the scene (0.85x and 0.86x); where the mask is low, c is at least the blend's own
    share 1 - a, so the detail flickers no more than the blend's. Near edges of the input
    (exp(-``FLAT_DETAIL`` · its detail energy) small) the blend is kept: there the strokes follow the
    input anyway, and a carried halo of a passing object would linger.

    Where nothing moves the same holds: the blend averages strokes the network paints differently on
    every frame into the one pattern all frames share, a fine crosshatch (cutBunny's still sky, frame
    23, learned starry_night). Carried, the first frame's strokes stay: over 48 frames the style ratio
    to per-frame falls from 1.67 to 1.46 on cutBunny (1.21 to 1.25 on chaplin) and the warping error
    from 0.10x to 0.085x per-frame (0.24x to 0.23x).

    Where frame t-1 is magnified (``zoom``, :func:`zoom_share`, 1 = a zoom of ``zoom_fresh`` or more a
    frame) the fine band comes from the fresh frame instead, from the blend's and the past's shares
    alike: the past's strokes, magnified and resampled frame after frame, grow into a blurred grid with
    radial smears (``docs/zoom_strip.png``).

    Where c < 1 the carried band is a mix of two different sets of strokes, with less contrast than
    either; repeated every frame, the strokes fade. ``contrast`` (0..1) scales the mix by
    1 + contrast·(g - 1), g the histogram-preserving gain of :func:`blend` for the two fine bands
    (variances over a Gaussian window of ``DETAIL_CONTRAST_SIGMA``), capped where the result would
    hold more contrast than the fresh frame's fine band: the cap is what keeps strokes the past holds
    more strongly than the network now paints from growing frame after frame.

    Convention:
        blended, fresh, anchor, content: :math:`(B, 3, H, W)` float (the blend, frame t stylized, frame
        t-1's output warped, input frame t, 0..1); mask, zoom: :math:`(B, 1, H, W)` in 0..1; weight: the
        blend's λ. Returns :math:`(B, 3, H, W)`, not clamped.
    """
    return _add_carried_detail(blended.clone(), fresh, fresh - blended, anchor - fresh, content, mask,
                               _trust(mask, weight), zoom, contrast)


def _lost_contrast(fresh_fine: torch.Tensor, anchor_fine: torch.Tensor, carry: torch.Tensor) -> torch.Tensor:
    """g - 1 for :func:`carried_detail`'s ``contrast``: g = sqrt(min(P, Vf) / V) in 1..``MAX_CONTRAST_GAIN``,
    with Vf, Va the local variances of the fine bands (channels summed; they have no local mean),
    P = (1-c)·Vf + c·Va what a histogram-preserving mix keeps and V = (1-c)²·Vf + c²·Va + 2c(1-c)·cov
    what the weighted mean has. Moments at 1/4 size; returns :math:`(B, 1, H, W)` ≥ 0."""
    moments = torch.cat([_quartered(fresh_fine.square().sum(1, keepdim=True)),
                         _quartered(anchor_fine.square().sum(1, keepdim=True)),
                         _quartered((fresh_fine * anchor_fine).sum(1, keepdim=True)), _quartered(carry)], 1)
    var_f, var_a, cov, c = _blur(moments, DETAIL_CONTRAST_SIGMA).split(1, 1)
    kept = torch.minimum((1.0 - c) * var_f + c * var_a, var_f)
    mean = ((1.0 - c).square() * var_f + c.square() * var_a + 2.0 * c * (1.0 - c) * cov).clamp_min(1e-10)
    return _expanded((kept / mean).sqrt_().clamp_(1.0, MAX_CONTRAST_GAIN).sub_(1.0), fresh_fine.shape[-2:])


def _add_carried_detail(out: torch.Tensor, fresh: torch.Tensor, to_fresh: torch.Tensor, to_anchor: torch.Tensor,
                        content: torch.Tensor, mask: torch.Tensor, a: torch.Tensor,
                        zoom: torch.Tensor | None = None, contrast: float = 0.0) -> torch.Tensor:
    """:func:`carried_detail`, in place on ``out``, ``to_fresh`` (fresh - out) and ``to_anchor``
    (anchor - fresh). With H = 1 - smooth (linear), new + carry (old - new) - own for the fine bands of
    fresh, anchor and blended is H(to_fresh) + carry H(to_anchor): three images smoothed, not four (a
    fourth, fresh, only for ``contrast``)."""
    carry = 1.0 - (1.0 - mask) * a
    if zoom is not None:  # where the past is magnified its fine strokes are the fresh frame's
        carry = carry * (1.0 - zoom)
    smoothed = [to_fresh, to_anchor, content] + ([fresh] if contrast > 0.0 else [])
    coarse_fresh, coarse_anchor, coarse_content, *coarse_of_fresh = _smooth_each(smoothed, DETAIL_SIGMA)
    edges = (content - coarse_content).square_().sum(1, keepdim=True)
    flat = torch.exp(_smooth(edges, DETAIL_SIGMA).mul_(-FLAT_DETAIL))
    anchor_minus_fresh = to_anchor.sub_(coarse_anchor)  # H(anchor) - H(fresh)
    if contrast > 0.0:
        fresh_fine = fresh - coarse_of_fresh[0]
        mixed = torch.addcmul(fresh_fine, carry, anchor_minus_fresh)  # (1 - c) H(fresh) + c H(anchor)
        gain = _lost_contrast(fresh_fine, fresh_fine + anchor_minus_fresh, carry).mul_(contrast)
        out.addcmul_(flat * gain, mixed)
    if zoom is None:
        detail = to_fresh.sub_(coarse_fresh).addcmul_(carry, anchor_minus_fresh)
        return out.addcmul_(flat, detail)
    # shares of the fine band: fresh flat(1 - c) + z(1 - flat), anchor flat c, blend (1 - z)(1 - flat),
    # c already (1 - z) times the carry
    detail = to_fresh.sub_(coarse_fresh).mul_(flat + zoom * (1.0 - flat))
    return out.add_(detail.addcmul_(flat * carry, anchor_minus_fresh))


def _frame_mean(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, 1, 1, 1): the mean of each frame, the same bits whatever torch's thread count.

    A reduction to one number per frame splits its sum between torch's threads, so its last bits
    depend on how many there are (painting ahead runs the temporal step on one thread, a plain render
    on all): the sum of each row stays on one thread, and the rows' sums are few enough for one.
    """
    return x.sum(dim=3).sum(dim=(1, 2)).div_(x[0].numel()).view(-1, 1, 1, 1)


def restored_energy(out: torch.Tensor, fresh: torch.Tensor, amount: float) -> torch.Tensor:
    """``out`` with its detail (what a Gaussian of ``ENERGY_SIGMA`` px removes) scaled by one gain per
    frame, g = 1 + amount·(sqrt(E_fresh / E_out) - 1) in 1..``MAX_ENERGY_GAIN``, E the mean squared
    detail of each image.

    Every blend of the temporal step is a weighted mean of two paintings whose strokes and swirls differ,
    and a mean has less contrast than either: the temporal output of the learned starry_night kept
    0.90x of the per-frame output's VGG relu4_1 energy (the Gram layer that makes up nearly all of
    CONTRACT.md's style distance), and its style distance was 1.35-1.46x per-frame. Local gains
    (``contrast``, ``detail_contrast``) give some back but follow each frame's own strokes, so they
    flicker; one gain for the frame is as steady as the frame it scales. Measured on 48 frames of Big
    Buck Bunny, Chaplin and the fox (unencoded, amount 1): style 1.43 -> 1.10, 1.35 -> 1.03,
    1.46 -> 0.88x per-frame, warp 0.111 -> 0.138, 0.226 -> 0.268, 0.170 -> 0.238x (the warping error
    is squared: a gain of 1.1 alone makes it 1.21x).

    Convention:
        out, fresh: :math:`(B, 3, H, W)` float 0..1 (the temporal output, frame t stylized); amount 0..1.
        Returns a new :math:`(B, 3, H, W)` tensor in 0..1 (``out`` itself for amount 0).
    """
    if amount <= 0.0:
        return out
    smooth_out, smooth_fresh = _smooth_each([out, fresh], ENERGY_SIGMA)
    detail = out - smooth_out
    fresh_energy = _frame_mean((fresh - smooth_fresh).square_())
    out_energy = _frame_mean(detail.square()).clamp_min(1e-12)
    gain = (fresh_energy / out_energy).sqrt_().clamp_(1.0, MAX_ENERGY_GAIN).sub_(1.0).mul_(amount).add_(1.0)
    return detail.mul_(gain).add_(smooth_out).clamp_(0.0, 1.0)


def motion_mask(content: torch.Tensor, previous: torch.Tensor, flow: FlowSampler,
                settings: TemporalSettings) -> tuple[torch.Tensor, torch.Tensor]:
    """Where the flow is real motion, and how far to trust the warped frame t-1 at each pixel.

    A pixel moves where ``flow`` explains ``content`` better than zero motion by
    ``settings.stillness_margin`` (averaged over a few pixels); elsewhere frame t-1 is taken as is.
    The mask is exp(-α e) of the photometric error e left (with the flow where the pixel moves, with
    zero motion elsewhere), lowered to ``settings.boundary_weight`` on and near motion boundaries of
    the flow that is kept, and 0 where it leaves the frame.

    Convention:
        content, previous: :math:`(B, 3, H, W)` float RGB 0..1 (frame t, frame t-1); flow: the sampler
        of the flow :math:`(B, 2, H, W)` frame t -> t-1 in pixels, (x, y). Returns ``moving``
        :math:`(B, 1, H, W)` bool and the mask :math:`(B, 1, H, W)` in 0..1.
    """
    s = settings
    moved = (content - flow.warp(previous)).square_().sum(dim=1, keepdim=True)
    still = (content - previous).square_().sum(dim=1, keepdim=True)
    moving = _smooth(still - moved, STILLNESS_SIGMA) > s.stillness_margin
    kept = flow.flow * moving.to(flow.flow.dtype)
    mask = torch.exp(torch.where(moving, moved, still).mul_(-s.photometric))
    tears = motion_boundaries(kept, relative=DIS_TEAR_RELATIVE, absolute=DIS_TEAR_ABSOLUTE).to(kept.dtype)
    near_boundary = (_smooth(tears, BOUNDARY_BAND_SIGMA) > 0.05).to(mask.dtype)
    in_frame = torch.where(moving, flow.in_frame(), 1.0)  # a still pixel reads itself: always in the frame
    return moving, mask.mul_(1.0 - (1.0 - s.boundary_weight) * near_boundary).mul_(in_frame)


def _photometric_mask(content: torch.Tensor, past: Past, alpha: float) -> torch.Tensor:
    """exp(-α e) of frame t against an older input frame warped by the composed flow, 0 off frame."""
    error = (content - backward_warp(past.content, past.flow)).square().sum(dim=1, keepdim=True)
    return torch.exp(-alpha * error) * flow_in_frame(past.flow)


def consistent_frame(
    fresh: torch.Tensor, prev_output: torch.Tensor, content: torch.Tensor, previous: torch.Tensor,
    flow: torch.Tensor, settings: TemporalSettings, older: Sequence[Past] = (),
) -> tuple[torch.Tensor, torch.Tensor]:
    """Frame t from its fresh stylization and the previous output(s): the masked temporal blend.

    Pixels that did not move copy frame t-1's output exactly (no resampling) and get all their
    contrast back; moving ones read it warped with bicubic interpolation (it is resampled every frame,
    and bilinear would blur it within a second). Each frame of ``older`` (flows composed to frame t)
    anchors the pixels the nearer frames leave uncovered, with weight max(M_k - Σ nearer weights, 0) as
    in Ruder et al. (2016) (:func:`vidstyle.temporal.longterm.add_anchors`). The coarse band then
    comes from a blend with ``settings.coarse_weight`` (glows follow their object, no wake), and the
    fine band is carried (:func:`carried_detail`).

    One pass over the frame as far as torch allows: the flow's sampling grid is built once for both
    warps and the in-frame test, anchor - fresh and the blend's shares are computed once and shared by
    the blend, the coarse band and the carried detail, and full-size temporaries are updated in place
    (``tests/temporal/test_consistency.py`` checks the frames against the definitions step by step).

    Convention:
        fresh, prev_output, content, previous: :math:`(1, 3, H, W)` float RGB 0..1 (frame t stylized,
        frame t-1's output, input frames t and t-1); flow: :math:`(1, 2, H, W)` frame t -> t-1 in
        pixels. Returns the output :math:`(1, 3, H, W)` in 0..1 and frame t-1's mask
        :math:`(1, 1, H, W)` (what scene-cut detection reads).
    """
    s = settings
    sampler = FlowSampler(flow)
    moving, mask = motion_mask(content, previous, sampler, s)
    anchor = torch.where(moving, sampler.warp(prev_output, mode="bicubic"), prev_output)
    contrast = s.still_contrast + (s.contrast - s.still_contrast) * moving.to(fresh.dtype)
    others = ((backward_warp(p.output, p.flow, mode="bicubic"), _photometric_mask(content, p, s.photometric))
              for p in older)
    anchor, covered = add_anchors(anchor, mask, others)
    to_anchor = anchor - fresh
    a = _trust(covered, s.weight)
    out = _blended(fresh, anchor, to_anchor, a, contrast)
    if s.coarse_weight is not None:  # the coarse band from a blend with its own λ
        out += _smooth(_blended(fresh, anchor, to_anchor, _trust(covered, s.coarse_weight), 0.0).sub_(out),
                       COARSE_SIGMA)
    if s.carry_detail:
        # only where frame t-1 is warped: a pixel taken as still is copied, neither magnified nor blurred
        zoom = zoom_share(flow, s.zoom_fresh) * moving if s.zoom_fresh is not None else None
        out = _add_carried_detail(out, fresh, fresh - out, to_anchor, content, covered, a, zoom,
                                  s.detail_contrast)
    return out.clamp_(0.0, 1.0), mask


class FlowTemporalFilter:
    """Keeps the previous input and output frames; ``step`` returns the consistent frame t.

    A :class:`~vidstyle.temporal.base.TemporalFilter`: ``paint(content)`` gives frame t's fresh
    stylization, which is blended with the warped previous output. ``content``: (1, 3, H, W) float RGB
    0..1 on the stylizer's device; returns the same shape and range. The first frame, a frame of
    another size and a scene cut (``is_scene_cut`` on the mask) give the fresh stylization; ``cuts``
    counts the scene cuts.
    """

    def __init__(self, flow: FlowEstimator, settings: TemporalSettings = TemporalSettings(), *,
                 overlap_flow: bool = True) -> None:
        self.flow = flow
        self.settings = settings
        self.cuts = 0
        # the flow needs only the input frames: estimated in a thread while the network paints (OpenCV
        # and torch release the GIL, so the two share the cores); False: one after the other
        self._flow_thread = ThreadPoolExecutor(1, thread_name_prefix="vidstyle-flow") if overlap_flow else None
        self.reset()

    def reset(self) -> None:
        self.confidence: torch.Tensor | None = None  # the last frame's mask M, (1, 1, H, W) 0..1; None: fresh
        self._prev_content: torch.Tensor | None = None
        self._prev_output: torch.Tensor | None = None
        self._history = History(self.settings.long_term)

    def step(self, content: torch.Tensor, paint: Paint, weight: float | None = None) -> torch.Tensor:
        """Frame t's output (with :func:`restored_energy`; the next frame follows it without);
        ``weight`` replaces ``settings.weight`` (λ) for this frame when given."""
        check_shape(content, [1, 3, "H", "W"], "content")
        settings = self.settings if weight is None else replace(self.settings, weight=weight)
        previous = self._prev_content
        follows = previous is not None and previous.shape == content.shape and settings.weight > 0
        pending = self._flow_thread.submit(self.flow, content, previous) if follows and self._flow_thread else None
        fresh = paint(content)
        out, shown = fresh, fresh
        self.confidence = None
        if follows:
            flow = pending.result() if pending is not None else self.flow(content, previous)
            self._history.advance(previous, self._prev_output, flow)
            consistent, mask = consistent_frame(fresh, self._prev_output, content, previous, flow,
                                                settings, self._history.anchors())
            if is_scene_cut(mask):
                self.cuts += 1
                self._history.clear()
            else:
                out, self.confidence = consistent, mask
                # the next frame follows ``out``: the gain shapes what is shown, frame by frame
                shown = restored_energy(consistent, fresh, settings.energy)
        else:
            self._history.clear()
        self._prev_content, self._prev_output = content, out
        return shown

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The previous input and output frames, and the older ones of the long-term terms (empty before
        the first frame); tensors only."""
        if self._prev_content is None:
            return {}
        return {"prev_content": self._prev_content, "prev_output": self._prev_output,
                **self._history.state_dict()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Resume from :meth:`state_dict`: the next ``step`` gives what an uninterrupted run gives."""
        self.reset()
        if state:
            self._prev_content = state["prev_content"]
            self._prev_output = state["prev_output"]
            self._history.load_state_dict(state)
