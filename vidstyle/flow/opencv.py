"""OpenCV optical flow: DIS (Kroeger et al. 2016) and Farneback (2003), on the CPU.

Both take float RGB tensors, meet OpenCV as 8-bit grey (the only uint8 outside ``vidstyle.io``) and
return flow as a tensor on the input's device and dtype, following ``vidstyle.flow.base``:
``flow = estimator(source, target)`` per pixel of ``source``, ``source(p) ~ target(p + flow(p))``.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from vidstyle.checks import check_same_size, check_shape
from vidstyle.errors import UserInputError

# ITU-R BT.601 luma, the weights cv2.COLOR_RGB2GRAY uses.
_LUMA = (0.299, 0.587, 0.114)

DIS_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}
# Chosen with benchmarks/flow.py (results/flow.json): on the Sintel pairs medium has the lowest endpoint
# error (0.99 px clean vs 1.32 fast, 1.50 ultrafast) and the most precise occlusion mask, at about 16 ms
# of CPU per 640x360 pair; ``scale=0.5`` brings it to about 5 ms with fast's accuracy.
DEFAULT_DIS_PRESET = "medium"

# The smallest side OpenCV is given after ``scale``; DIS needs a few 8-pixel patches per side.
_MIN_SIDE = 16


def _to_grey_uint8(image: torch.Tensor) -> list[np.ndarray]:
    """(B, 3, H, W) float RGB 0..1 -> B arrays (H, W) uint8 grey, rounded.

    On the CPU the luma is computed in NumPy: a few single-threaded passes beat torch's thread pool
    for this much work, which on a busy machine can wait tens of milliseconds for its threads. On an
    accelerator it is computed there and only the uint8 plane crosses to the host.
    """
    if image.device.type == "cpu":
        planes = image.detach().float().numpy()
        grey = planes[:, 0] * _LUMA[0] + planes[:, 1] * _LUMA[1] + planes[:, 2] * _LUMA[2]
        grey = np.clip(grey * 255.0 + 0.5, 0.0, 255.0).astype(np.uint8)
    else:
        weights = torch.tensor(_LUMA, device=image.device, dtype=torch.float32).view(1, 3, 1, 1)
        grey = (image.detach().float() * weights).sum(dim=1).mul(255.0).round().clamp(0.0, 255.0)
        grey = grey.to(torch.uint8).cpu().numpy()
    return [np.ascontiguousarray(g) for g in grey]


def _check_scale(scale: float) -> float:
    if not 0.0 < scale <= 1.0:
        raise UserInputError(f"flow scale must be in (0, 1], got {scale}")
    return float(scale)


class _OpenCVFlow:
    """Shared boundary: float tensors in, per-pair grey uint8 through ``_compute``, flow tensor out."""

    name = "opencv"

    def __init__(self, *, scale: float = 1.0) -> None:
        self.scale = _check_scale(scale)

    def _compute(self, source: np.ndarray, target: np.ndarray) -> np.ndarray:
        """(h, w) uint8 grey pair -> (h, w, 2) float32 flow per pixel of ``source``."""
        raise NotImplementedError

    def _compute_scaled(self, source: np.ndarray, target: np.ndarray) -> np.ndarray:
        h, w = source.shape
        if self.scale == 1.0:
            return self._compute(source, target)
        sw = max(_MIN_SIDE, int(round(w * self.scale)))
        sh = max(_MIN_SIDE, int(round(h * self.scale)))
        small = [cv2.resize(g, (sw, sh), interpolation=cv2.INTER_AREA) for g in (source, target)]
        flow = cv2.resize(self._compute(*small), (w, h), interpolation=cv2.INTER_LINEAR)
        # Vectors were measured in the small frame's pixels; bring them back to full-size pixels.
        flow[..., 0] *= w / sw
        flow[..., 1] *= h / sh
        return flow

    def __call__(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """source, target: (B, 3, H, W) float RGB 0..1 -> flow (B, 2, H, W) float pixels, (x, y)."""
        check_shape(source, ["B", 3, "H", "W"], "source")
        check_shape(target, ["B", 3, "H", "W"], "target")
        check_same_size(source, target, "source and target")
        flows = [
            self._compute_scaled(s, t)
            for s, t in zip(_to_grey_uint8(source), _to_grey_uint8(target), strict=True)
        ]
        flow = torch.from_numpy(np.ascontiguousarray(np.stack(flows).transpose(0, 3, 1, 2)))
        return flow.to(device=source.device, dtype=source.dtype)


class DisFlow(_OpenCVFlow):
    """Dense Inverse Search flow (OpenCV ``DISOpticalFlow``); one OpenCV object, made once, reused.

    ``preset``: ``ultrafast`` | ``fast`` | ``medium``. ``scale`` in (0, 1]: compute on frames resized by
    ``scale`` (area) and upsample the flow (bilinear), multiplying the vectors back to full-size pixels.
    ``refinement_iterations`` ≥ 0: iterations of the variational refinement at each scale (None: the
    preset's own; ``vidstyle.flow.factory`` sets what ``run`` uses).
    """

    name = "dis"

    def __init__(self, preset: str = DEFAULT_DIS_PRESET, *, scale: float = 1.0,
                 refinement_iterations: int | None = None) -> None:
        super().__init__(scale=scale)
        if preset not in DIS_PRESETS:
            raise UserInputError(
                f"DIS preset must be one of {', '.join(DIS_PRESETS)}, got {preset!r}"
            )
        self.preset = preset
        self._dis = cv2.DISOpticalFlow_create(DIS_PRESETS[preset])
        if refinement_iterations is not None:
            if refinement_iterations < 0:
                raise UserInputError(f"DIS refinement iterations must be >= 0, got {refinement_iterations}")
            self._dis.setVariationalRefinementIterations(int(refinement_iterations))
        self.refinement_iterations = self._dis.getVariationalRefinementIterations()

    def _compute(self, source: np.ndarray, target: np.ndarray) -> np.ndarray:
        return self._dis.calc(source, target, None)

    def __repr__(self) -> str:
        return (f"DisFlow(preset={self.preset!r}, scale={self.scale}, "
                f"refinement_iterations={self.refinement_iterations})")


class FarnebackFlow(_OpenCVFlow):
    """Farneback polynomial-expansion flow; the defaults are the reference measurement's
    (``../shared/tools/vsmeasure.py``: pyr 0.5, 5 levels, window 21, 5 iterations, poly_n 7, sigma 1.5,
    Gaussian window).
    """

    name = "farneback"

    def __init__(
        self,
        *,
        pyr_scale: float = 0.5,  # each pyramid level is half the size of the one below
        levels: int = 5,  # pyramid levels, the full image included
        winsize: int = 21,  # averaging window; larger is smoother and copes with faster motion
        iterations: int = 5,  # per pyramid level
        poly_n: int = 7,  # neighbourhood of the polynomial expansion
        poly_sigma: float = 1.5,  # Gaussian that weights that neighbourhood
        scale: float = 1.0,
    ) -> None:
        super().__init__(scale=scale)
        self.params = (pyr_scale, levels, winsize, iterations, poly_n, poly_sigma)

    def _compute(self, source: np.ndarray, target: np.ndarray) -> np.ndarray:
        return cv2.calcOpticalFlowFarneback(
            source, target, None, *self.params, cv2.OPTFLOW_FARNEBACK_GAUSSIAN
        )

    def __repr__(self) -> str:
        return f"FarnebackFlow(params={self.params}, scale={self.scale})"
