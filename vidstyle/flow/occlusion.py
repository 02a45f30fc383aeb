"""Forward-backward consistency: which pixels of frame t the warped frame t-1 can be trusted on.

ref: Ruder, Dosovitskiy, Brox, "Artistic style transfer for videos", GCPR 2016, section 4.1
(https://arxiv.org/abs/1604.08610), as in the reference measurement ``../shared/tools/vsmeasure.py``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vidstyle.checks import check_same_size, check_shape
from vidstyle.flow.warp import backward_warp, flow_in_frame

# Ruder et al.'s thresholds: |w + ŵ|² > a (|w|² + |ŵ|²) + b marks a disocclusion ...
CONSISTENCY_RELATIVE = 0.01
CONSISTENCY_ABSOLUTE = 0.5
# ... and |∇u|² + |∇v|² > c |w|² + d a motion boundary (the paper's c and d).
RUDER_BOUNDARY_RELATIVE = 0.01
RUDER_BOUNDARY_ABSOLUTE = 0.002


def motion_boundaries(flow: torch.Tensor, *, relative: float, absolute: float) -> torch.Tensor:
    """Where ``flow`` tears: |∇u|² + |∇v|² > ``relative`` |w|² + ``absolute`` (central differences,
    edges replicated). Each caller passes the thresholds it measured for its flow.

    Convention:
        flow: :math:`(B, 2, H, W)` float pixels, (x, y). Returns :math:`(B, 1, H, W)` bool, True on a
        motion boundary.
    """
    check_shape(flow, ["B", 2, "H", "W"], "flow")
    padded = F.pad(flow, (1, 1, 1, 1), mode="replicate")
    dx = (padded[..., 1:-1, 2:] - padded[..., 1:-1, :-2]) * 0.5
    dy = (padded[..., 2:, 1:-1] - padded[..., :-2, 1:-1]) * 0.5
    grad_sq = (dx.square() + dy.square()).sum(dim=1, keepdim=True)
    return grad_sq > relative * flow.square().sum(dim=1, keepdim=True) + absolute


def consistency_mask(flow_prev_to_cur: torch.Tensor, flow_cur_to_prev: torch.Tensor) -> torch.Tensor:
    """Ruder et al.'s reliability mask on the pixels of the current frame.

    The two flows follow ``vidstyle.flow.base`` (``flow = estimator(source, target)``, per pixel of
    ``source``):

    - ``flow_cur_to_prev`` = ``estimator(frame_t, frame_prev)``, per pixel of frame t: the paper's w,
      the flow that warps the previous (stylized) frame onto frame t,
      ``backward_warp(out_prev, flow_cur_to_prev)``.
    - ``flow_prev_to_cur`` = ``estimator(frame_prev, frame_t)``, per pixel of the previous frame: the
      paper's ŵ, sampled here at ``x + w(x)``.

    A pixel of frame t is unreliable (0) where the round trip does not come back,
    |w + ŵ|² > 0.01(|w|² + |ŵ|²) + 0.5 (disoccluded: frame t shows something the previous frame hid),
    on a motion boundary of w (:func:`motion_boundaries` with the paper's thresholds), or where ``x + w(x)`` leaves the frame.
    Any ordered pair works the same way: with ``cur = frame_a``, ``prev = frame_b``, 0 marks pixels of
    frame a that are not visible in frame b.

    Convention:
        both flows: :math:`(B, 2, H, W)` float pixels, (x, y). Returns :math:`(B, 1, H, W)` in
        ``flow_cur_to_prev``'s dtype, 1 = reliable.
    """
    check_shape(flow_prev_to_cur, ["B", 2, "H", "W"], "flow_prev_to_cur")
    check_shape(flow_cur_to_prev, ["B", 2, "H", "W"], "flow_cur_to_prev")
    check_same_size(flow_prev_to_cur, flow_cur_to_prev, "flow_prev_to_cur and flow_cur_to_prev")
    w = flow_cur_to_prev
    w_hat = backward_warp(flow_prev_to_cur.to(w.dtype), w)
    round_trip = (w + w_hat).square().sum(dim=1, keepdim=True)
    limit = (
        CONSISTENCY_RELATIVE * (w.square().sum(dim=1, keepdim=True) + w_hat.square().sum(dim=1, keepdim=True))
        + CONSISTENCY_ABSOLUTE
    )
    consistent = (round_trip <= limit).to(w.dtype)
    boundary = motion_boundaries(w, relative=RUDER_BOUNDARY_RELATIVE, absolute=RUDER_BOUNDARY_ABSOLUTE)
    return consistent * (~boundary).to(w.dtype) * flow_in_frame(w)
