"""Scene-cut detection: after a cut the previous stylized frame must not leak into the new shot."""

from __future__ import annotations

import torch

# Below this mean reliability the two frames do not show the same scene. Within a shot the temporal
# filter's mask averages 0.8 or more (cutBunny, chaplin, fox); across cutBunny's cut it is 0.06.
MIN_RELIABLE_FRACTION = 0.2


def is_scene_cut(mask: torch.Tensor, min_reliable: float = MIN_RELIABLE_FRACTION) -> bool:
    """True when the mean of ``mask`` ((1, 1, H, W) in 0..1, 1 = reliable) is below ``min_reliable``.

    A cut makes optical flow meaningless: the warped previous frame matches the new one almost nowhere,
    so the reliability mask collapses. This is cheaper and more robust than a separate histogram
    detector, and it also resets on flashes and whip pans where temporal blending would smear.
    """
    return float(mask.mean()) < min_reliable
