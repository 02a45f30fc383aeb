"""How visible the seams of a chunked render are, measured the vsmeasure way (masked warping error)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vidstyle.metrics import MEASURE_WIDTH, read_frames, warp_errors


def seam_ratios(input: str | Path, output: str | Path, seams: list[int], around: int = 4,
                windows: tuple[int, ...] = (1,)) -> list[list[float]]:
    """For each window length and each seam (the first frame of a chunk): the largest warping error of
    the ``window`` frame changes from the seam on (the seam itself, then the rest of its dissolve) over
    the median error of the ``around`` changes on each side of them (1.0: an ordinary frame change; a
    cold chunk start shows as a jump well above 1). One list of ratios per window, in ``windows`` order."""
    last = max(seams) + max(windows) + around
    errors = warp_errors(read_frames(input, last, MEASURE_WIDTH), read_frames(output, last, MEASURE_WIDTH)).output
    return [[_ratio(errors, seam - 1, seam - 1 + window, around) for seam in seams] for window in windows]


def _ratio(errors: list[float], first: int, end: int, around: int) -> float:
    """max of errors[first:end] over the median of ``around`` errors on each side (errors[t - 1]
    compares frame t with frame t - 1)."""
    inside = errors[first:end]
    neighbours = [errors[i] for i in [*range(first - around, first), *range(end, end + around)]
                  if 0 <= i < len(errors)]
    return max(inside) / max(float(np.median(neighbours)), 1e-12)
