"""How visible the seams of a chunked render are, measured the vsmeasure way (masked warping error)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vidstyle.metrics import MEASURE_WIDTH, read_frames, warp_errors


def seam_ratios(input: str | Path, output: str | Path, seams: list[int], around: int = 4) -> list[float]:
    """For each seam (the first frame of a chunk), the warping error between it and the frame before,
    over the median error of the ``around`` frame pairs on each side (1.0: the seam is an ordinary
    frame change; a cold chunk start shows as a jump well above 1)."""
    last = max(seams) + around + 1
    errors = warp_errors(read_frames(input, last, MEASURE_WIDTH), read_frames(output, last, MEASURE_WIDTH)).output
    ratios = []
    for seam in seams:
        pair = seam - 1  # errors[t - 1] compares frame t with frame t - 1
        neighbours = [errors[i] for i in range(pair - around, pair + around + 1) if i != pair and 0 <= i < len(errors)]
        ratios.append(errors[pair] / max(float(np.median(neighbours)), 1e-12))
    return ratios
