"""Temporal consistency for feed-forward stylizers (after Ruder, Dosovitskiy & Brox 2016/2018).

Each frame t: optical flow on the *input* frames in both directions, the forward-backward mask M of
pixels of t visible in t-1, and the previous stylized frame warped onto t, W = warp(O_{t-1}). The
output solves, per pixel, the temporal loss min_O |O - S|² + λ M |O - W|²  =>  O = (S + λ M W) / (1 + λ M).

Blending two different textures and resampling the past every frame washes the painting out, so the
blend happens twice, gently: first in the network's feature space (before the decoder, which then
paints sharp strokes from features that agree with the past), then on the output with a smaller λ.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from vidstyle.flow.base import FlowEstimator
from vidstyle.flow.occlusion import consistency_mask
from vidstyle.flow.warp import backward_warp
from vidstyle.stylize.base import Stylizer
from vidstyle.temporal.scenecut import is_scene_cut


@dataclass(frozen=True)
class TemporalSettings:
    """``weight``: λ of the output blend; ``feature_weight``: λ of the feature-space blend (0 = off)."""

    weight: float = 3.0
    feature_weight: float = 3.0
    soft_mask: bool = False
    warp_mode: str = "bilinear"
    detail_gain: bool = False


def resize_flow(flow: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(B, 2, H, W) pixels -> (B, 2, h, w) pixels at ``size=(h, w)``: resampled and its vectors rescaled."""
    h, w = size
    if flow.shape[-2:] == (h, w):
        return flow
    scale = torch.tensor([w / flow.shape[-1], h / flow.shape[-2]], device=flow.device, dtype=flow.dtype)
    return F.interpolate(flow, size=(h, w), mode="bilinear", align_corners=False) * scale.view(1, 2, 1, 1)


def blend(current: torch.Tensor, warped: torch.Tensor, mask: torch.Tensor, weight: float) -> torch.Tensor:
    """Closed-form minimiser of |O - current|² + weight·mask·|O - warped|²; any (B, C, H, W), mask (B, 1, H, W)."""
    lam = weight * mask
    return (current + lam * warped) / (1.0 + lam)


def _detail(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Split (B, C, H, W) into a blurred base and the detail (strokes) on top of it."""
    base = F.avg_pool2d(F.pad(image, (3, 3, 3, 3), mode="replicate"), 7, stride=1)
    return base, image - base


def match_detail(blended: torch.Tensor, fresh: torch.Tensor) -> torch.Tensor:
    """Give ``blended`` the stroke contrast of ``fresh``: per-channel gain on the detail layer.

    Averaging two different brush textures lowers their contrast (Heitz & Neyret 2018); this puts the
    energy back, so the Gram statistics (the painting's look) stay those of the fresh stylization.
    """
    base, detail = _detail(blended)
    _, fresh_detail = _detail(fresh)
    gain = fresh_detail.std(dim=(2, 3), keepdim=True) / detail.std(dim=(2, 3), keepdim=True).clamp_min(1e-6)
    return (base + detail * gain.clamp(1.0, 2.0)).clamp(0.0, 1.0)


class FlowTemporalFilter:
    """Keeps the previous input and stylized frame; ``step`` returns the consistent frame t.

    ``content``: (1, 3, H, W) float RGB 0..1 on the stylizer's device; returns the same shape and range.
    """

    def __init__(self, flow: FlowEstimator, settings: TemporalSettings = TemporalSettings()) -> None:
        self.flow = flow
        self.settings = settings
        self.last_mask_fraction = 1.0
        self.cuts = 0
        self.reset()

    def reset(self) -> None:
        self._prev_content: torch.Tensor | None = None
        self._prev_output: torch.Tensor | None = None
        self._prev_features: torch.Tensor | None = None

    def step(self, content: torch.Tensor, stylizer: Stylizer) -> torch.Tensor:
        s = self.settings
        features_capable = s.feature_weight > 0 and hasattr(stylizer, "encode")
        if self._prev_content is None or self._prev_content.shape != content.shape:
            return self._keep(content, stylizer, None, None, features_capable)
        cur_to_prev = self.flow(content, self._prev_content)
        prev_to_cur = self.flow(self._prev_content, content)
        mask = consistency_mask(prev_to_cur, cur_to_prev, soft=s.soft_mask)
        self.last_mask_fraction = float(mask.mean())
        if is_scene_cut(mask):
            self.cuts += 1
            return self._keep(content, stylizer, None, None, features_capable)
        return self._keep(content, stylizer, cur_to_prev, mask, features_capable)

    def _keep(self, content: torch.Tensor, stylizer: Stylizer, flow: torch.Tensor | None,
              mask: torch.Tensor | None, features_capable: bool) -> torch.Tensor:
        s = self.settings
        if features_capable:
            features = stylizer.encode(content)
            if flow is not None and self._prev_features is not None \
                    and self._prev_features.shape == features.shape:
                size = features.shape[-2:]
                small_flow = resize_flow(flow, size)
                small_mask = F.interpolate(mask, size=size, mode="area")
                warped = backward_warp(self._prev_features, small_flow)
                features = blend(features, warped, small_mask, s.feature_weight)
            self._prev_features = features
            out = stylizer.decode(features, content)
        else:
            out = stylizer.stylize(content)
        if flow is not None:
            fresh = out
            out = blend(out, backward_warp(self._prev_output, flow, s.warp_mode), mask, s.weight)
            if s.detail_gain:
                out = match_detail(out, fresh)
        self._prev_content, self._prev_output = content, out
        return out

    def state_dict(self) -> dict[str, torch.Tensor]:
        state = {}
        for key in ("_prev_content", "_prev_output", "_prev_features"):
            value = getattr(self, key)
            if value is not None:
                state[key.lstrip("_")] = value
        return state

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.reset()
        for key, value in state.items():
            setattr(self, "_" + key, value)
