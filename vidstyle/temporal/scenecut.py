"""Scene-cut detection: after a cut the previous stylized frame must not leak into the new shot."""

from __future__ import annotations

import torch

# Below this fraction of reliable pixels the two frames do not show the same scene.
MIN_RELIABLE_FRACTION = 0.2


def is_scene_cut(mask: torch.Tensor, min_reliable: float = MIN_RELIABLE_FRACTION) -> bool:
    """True when too few pixels pass the forward-backward test; ``mask``: (1, 1, H, W), 1 = reliable.

    A cut makes optical flow meaningless, so the consistency test fails almost everywhere; this is
    cheaper and more robust than a separate histogram detector, and it also resets on flashes and
    whip pans where temporal blending would smear.
    """
    return float(mask.mean()) < min_reliable
