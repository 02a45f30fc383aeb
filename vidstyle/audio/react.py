"""``--audio-react TARGET:FEATURE[:GAIN]``: shape a 0..1 feature into per-frame values of a target.

Shaping, in order: threshold, attack/release, zero-phase smoothing, gain, then ``--react-range LO,HI``.
The whole soundtrack is known before the render, so nothing has to lag: the release decays *after* a
hit, the attack rises *before* it (a backward pass), and smoothing runs forward then backward, so a
peak stays on the frame of its hit. Filters use the frames' real time steps (VFR-safe).
"""

from __future__ import annotations


import numpy as np

from vidstyle.audio.spec import Envelope, React

def _one_pole(x: np.ndarray, dt: np.ndarray, tau: float, peak_hold: bool) -> np.ndarray:
    """Run a one-pole filter along ``x`` (time steps ``dt``): a decaying peak hold or a smoother."""
    y = x.copy()
    if tau <= 0:
        return y
    keep = np.exp(-dt / tau)
    for i in range(1, len(x)):
        y[i] = max(x[i], y[i - 1] * keep[i - 1]) if peak_hold else keep[i - 1] * y[i - 1] + (1 - keep[i - 1]) * x[i]
    return y


def shape(feature: np.ndarray, times: np.ndarray, env: Envelope, gain: float = 1.0) -> np.ndarray:
    """(F,) feature in 0..1 at ``times`` seconds -> (F,) shaped in 0..1, with no lag (see module doc)."""
    x = np.clip((np.asarray(feature, np.float64) - env.threshold) / (1.0 - env.threshold), 0.0, 1.0)
    dt = np.maximum(np.diff(np.asarray(times, np.float64)), 1e-6)
    rev_dt = dt[::-1]
    after = _one_pole(x, dt, env.release, peak_hold=True)
    before = _one_pole(x[::-1], rev_dt, env.attack, peak_hold=True)[::-1]
    y = np.maximum(after, before)
    if env.smooth > 0:
        y = _one_pole(y, dt, env.smooth, peak_hold=False)
        y = _one_pole(y[::-1], rev_dt, env.smooth, peak_hold=False)[::-1]
    return np.clip(y * gain, 0.0, 1.0)


def react_values(react: React, feature: np.ndarray, times: np.ndarray, env: Envelope) -> np.ndarray:
    """(F,) values of ``react.target``: ``lo + (hi - lo) * shaped feature``."""
    return react.lo + (react.hi - react.lo) * shape(feature, times, env, react.gain)
