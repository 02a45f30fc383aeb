"""RAFT optical flow (Teed & Deng, ECCV 2020) through torchvision: pad, normalise, last prediction.

RAFT's input range [-1, 1] stays inside this module; callers give float RGB 0..1 and get flow in
pixels following ``vidstyle.flow.base`` (``flow = RaftFlow(...)(source, target)``, per pixel of
``source``).

Weights, in this order:

1. an explicit file (``--raft-weights PATH``): a torchvision RAFT state dict;
2. torchvision's own file already in the torch hub cache,
   ``torch.hub.get_dir()/checkpoints/<file name of the weights URL>``, loaded without the network;
3. a download through torch hub, only when the caller passes ``allow_download=True``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse

import torch
import torch.nn.functional as F
from torchvision.models.optical_flow import (
    Raft_Large_Weights,
    Raft_Small_Weights,
    raft_large,
    raft_small,
)
from torchvision.models.optical_flow.raft import RAFT

from vidstyle.checks import check_same_size, check_shape
from vidstyle.errors import ResourceUnavailableError, WeightsError

# name, builder, torchvision weights (whose URL names the cached file and its sha256 prefix)
_VARIANTS = {
    True: ("raft_small", raft_small, Raft_Small_Weights.DEFAULT),
    False: ("raft_large", raft_large, Raft_Large_Weights.DEFAULT),
}
# The first convolution of the feature encoder tells the variants apart: 32 channels small, 64 large.
_FIRST_CONV = "feature_encoder.convnormrelu.0.weight"
_FIRST_CONV_SMALL = 32

# RAFT works at 1/8 resolution.
_STRIDE = 8

MISSING_WEIGHTS_HINT = (
    "pass --raft-weights PATH (a torchvision RAFT state dict) or run once with internet access "
    "to fetch them into the torch hub cache (`vidstyle doctor` lists where they are looked for)"
)


def hub_weights_path(small: bool) -> Path:
    """Where torch hub keeps torchvision's RAFT weights: ``<hub dir>/checkpoints/<url file name>``."""
    url = _VARIANTS[small][2].url
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(url).path)


def raft_weights_available(small: bool | None = None) -> Path | None:
    """The cached torchvision weights file for ``small`` (None: either, large first), or None."""
    for variant in (False, True) if small is None else (small,):
        path = hub_weights_path(variant)
        if path.is_file():
            return path
    return None


def _check_hub_hash(path: Path) -> None:
    """torch hub names files ``<name>-<sha256 prefix>.pth``; refuse a cached file that does not match."""
    prefix = path.stem.rsplit("-", 1)[-1]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if not digest.startswith(prefix):
        raise WeightsError(
            f"cached RAFT weights {path} have sha256 {digest[:8]}..., expected {prefix}...; "
            "delete the file and fetch it again, or pass --raft-weights PATH"
        )


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Load a state dict (optionally wrapped as {"state_dict": ...} or {"model": ...}) on the CPU."""
    if not path.is_file():
        raise WeightsError(f"RAFT weights file not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # pickle, zip and torch all raise their own types for a bad file
        raise WeightsError(
            f"cannot read RAFT weights {path}: not a torch.save file of plain tensors ({type(e).__name__})"
        ) from e
    for key in ("state_dict", "model"):
        if isinstance(state, Mapping) and isinstance(state.get(key), Mapping):
            state = state[key]
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"RAFT weights {path} hold no state dict (a mapping of names to tensors)")
    return dict(state)


def _variant_of(state: Mapping[str, torch.Tensor]) -> bool:
    """True for raft_small weights, judged by the width of the first convolution (large if unknown)."""
    first = state.get(_FIRST_CONV)
    return first is not None and first.dim() > 0 and first.shape[0] == _FIRST_CONV_SMALL


def _download(small: bool) -> dict[str, torch.Tensor]:
    name, _, weights = _VARIANTS[small]
    try:
        return torch.hub.load_state_dict_from_url(
            weights.url, map_location="cpu", progress=False, check_hash=True, weights_only=True
        )
    except Exception as e:  # URLError, HTTPError, a hash mismatch: all mean "not available"
        raise ResourceUnavailableError(
            f"could not download {name} weights ({e}); {MISSING_WEIGHTS_HINT}"
        ) from e


def _resolve_state_dict(
    weights: Path | None, small: bool | None, allow_download: bool
) -> tuple[dict[str, torch.Tensor], bool]:
    """(state dict, small) from an explicit file, the hub cache, or (if allowed) a download."""
    if weights is not None:
        state = _read_state_dict(Path(weights))
        return state, _variant_of(state) if small is None else small
    cached = raft_weights_available(small)
    if cached is not None:
        _check_hub_hash(cached)
        variant = cached == hub_weights_path(True)
        return _read_state_dict(cached), variant
    variant = bool(small)
    if allow_download:
        return _download(variant), variant
    looked = [hub_weights_path(v).name for v in ((False, True) if small is None else (small,))]
    raise WeightsError(
        f"RAFT weights not found offline (looked for {' and '.join(looked)} in "
        f"{hub_weights_path(variant).parent}); {MISSING_WEIGHTS_HINT}"
    )


def _build(state: dict[str, torch.Tensor], small: bool, source: str) -> RAFT:
    name, builder, _ = _VARIANTS[small]
    model = builder(weights=None, progress=False)
    expected = model.state_dict()
    missing = sorted(expected.keys() - state.keys())
    unexpected = sorted(state.keys() - expected.keys())
    wrong_shape = sorted(k for k in expected.keys() & state.keys() if expected[k].shape != state[k].shape)
    if missing or unexpected or wrong_shape:
        example = (missing or unexpected or wrong_shape)[0]
        raise WeightsError(
            f"RAFT weights {source} do not fit torchvision {name}: {len(missing)} missing, "
            f"{len(unexpected)} unexpected and {len(wrong_shape)} wrong-shape tensors (first: {example})"
        )
    model.load_state_dict(state)
    return model


class RaftFlow:
    """torchvision RAFT as a FlowEstimator.

    ``weights``: a state-dict file, or None for the hub cache (see the module docstring).
    ``small``: True raft_small, False raft_large, None (default) decided by the weights: the file's
    layout, else whichever is cached (large first), else large (the one downloaded).
    ``device``: where the model runs; inputs move there and the flow comes back on the input's
    device and dtype. ``num_flow_updates``: refinement iterations (torchvision's default, 12).
    ``allow_download``: fetch missing weights through torch hub (only when the user asked for RAFT).

    Inputs of any size work: they are padded (edge pixels repeated) to a multiple of 8 and at least
    the size RAFT's correlation pyramid needs (128 px for 4 levels), and the flow is cropped back.
    """

    name = "raft"

    def __init__(
        self,
        weights: Path | None = None,
        *,
        small: bool | None = None,
        device: torch.device | str = "cpu",
        num_flow_updates: int = 12,
        allow_download: bool = False,
    ) -> None:
        state, self.small = _resolve_state_dict(weights, small, allow_download)
        source = str(weights) if weights is not None else "from the torch hub cache"
        self.device = torch.device(device)
        self.num_flow_updates = int(num_flow_updates)
        self.model = _build(state, self.small, source).eval().requires_grad_(False).to(self.device)
        # The correlation pyramid halves the 1/8 feature map (num_levels - 1) times and needs 2 cells left.
        self._min_side = _STRIDE * 2 * 2 ** (self.model.corr_block.num_levels - 1)

    def _padded_size(self, size: int) -> int:
        return max(self._min_side, -(-size // _STRIDE) * _STRIDE)

    def __call__(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """source, target: (B, 3, H, W) float RGB 0..1 -> flow (B, 2, H, W) float pixels, (x, y)."""
        check_shape(source, ["B", 3, "H", "W"], "source")
        check_shape(target, ["B", 3, "H", "W"], "target")
        check_same_size(source, target, "source and target")
        h, w = source.shape[-2:]
        pad = (0, self._padded_size(w) - w, 0, self._padded_size(h) - h)
        with torch.inference_mode():
            pair = torch.cat((source, target)).to(self.device, torch.float32)
            # RAFT was trained on images in [-1, 1] (torchvision's OpticalFlow preset: mean 0.5, std 0.5).
            pair = F.pad(pair * 2.0 - 1.0, pad, mode="replicate")
            image1, image2 = pair.chunk(2)
            flow = self.model(image1, image2, num_flow_updates=self.num_flow_updates)[-1]
        # clone() outside inference_mode: a normal tensor that autograd code (the temporal loss) may use.
        flow = flow[..., :h, :w].clone()
        return flow.to(device=source.device, dtype=source.dtype)

    def __repr__(self) -> str:
        variant = _VARIANTS[self.small][0]
        return f"RaftFlow({variant}, device={self.device}, num_flow_updates={self.num_flow_updates})"
