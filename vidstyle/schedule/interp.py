"""Interpolation between keyframes, with Deforum's rules.

Before the first key the first value holds, after the last key the last value holds. Between keys:
``linear``; ``step`` holds each key's value until the next key (Parseq's "step"); ``cubic`` is
Deforum's: a not-a-knot cubic spline through the keys (pandas/scipy ``interp1d(kind="cubic")``), which
Deforum lowers to quadratic with three keys and to linear with two. Unlike Deforum we add no extra knots
at the clip's first and last frame, so a curve does not change with the clip's length.
"""

from __future__ import annotations

import numpy as np

from vidstyle.errors import UserInputError

INTERPOLATIONS = ("linear", "cubic", "step")


def check_interp(interp: str) -> str:
    if interp not in INTERPOLATIONS:
        raise UserInputError(f"--interp must be one of {', '.join(INTERPOLATIONS)}, got {interp!r}")
    return interp


def interpolate(key_t: np.ndarray, key_v: np.ndarray, t: np.ndarray, interp: str = "linear") -> np.ndarray:
    """Values at times ``t`` (seconds, any shape) from keys at ``key_t`` (any order) with values ``key_v``."""
    check_interp(interp)
    order = np.argsort(key_t, kind="stable")
    kt = np.asarray(key_t, dtype=np.float64)[order]
    kv = np.asarray(key_v, dtype=np.float64)[order]
    t = np.asarray(t, dtype=np.float64)
    if len(kt) == 1:
        return np.full(t.shape, kv[0])
    if interp == "step":
        idx = np.clip(np.searchsorted(kt, t, side="right") - 1, 0, len(kt) - 1)
        return kv[idx]
    if interp == "linear" or len(kt) == 2:
        return np.interp(t, kt, kv)
    from scipy.interpolate import make_interp_spline

    spline = make_interp_spline(kt, kv, k=3 if len(kt) >= 4 else 2)
    inside = spline(np.clip(t, kt[0], kt[-1]))
    return np.where(t <= kt[0], kv[0], np.where(t >= kt[-1], kv[-1], inside))


def ease_weights(key_t: np.ndarray, t: np.ndarray, interp: str = "linear") -> np.ndarray:
    """(len(t), len(key_t)) crossfade weights between consecutive keys, each row summing to 1.

    ``linear`` fades linearly, ``cubic`` with smoothstep (same ends, no overshoot: weights stay in 0..1),
    ``step`` switches at each key. Before the first key it is all the first, after the last all the last.
    """
    check_interp(interp)
    order = np.argsort(key_t, kind="stable")
    kt = np.asarray(key_t, dtype=np.float64)[order]
    t = np.asarray(t, dtype=np.float64).reshape(-1)
    out = np.zeros((len(t), len(kt)))
    right = np.clip(np.searchsorted(kt, t, side="right"), 1, max(1, len(kt) - 1))
    left = right - 1
    if len(kt) == 1:
        out[:, 0] = 1.0
    else:
        span = kt[right] - kt[left]
        u = np.clip((t - kt[left]) / span, 0.0, 1.0)
        if interp == "step":
            u = (u >= 1.0).astype(np.float64)
        elif interp == "cubic":
            u = u * u * (3.0 - 2.0 * u)
        rows = np.arange(len(t))
        out[rows, left] = 1.0 - u
        out[rows, right] += u
    result = np.zeros_like(out)
    result[:, order] = out
    return result
