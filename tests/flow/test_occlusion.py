from __future__ import annotations

import pytest
import torch

from vidstyle.errors import ShapeError
from vidstyle.flow.occlusion import (
    RUDER_BOUNDARY_ABSOLUTE, RUDER_BOUNDARY_RELATIVE, consistency_mask, motion_boundaries,
)
from vidstyle.temporal.consistency import DIS_TEAR_ABSOLUTE, DIS_TEAR_RELATIVE
from vidstyle.flow.opencv import DisFlow

# A square of side S at (X0, Y0) in the previous frame moves MOVE pixels right over a static background.
H, W, S, X0, Y0, MOVE = 48, 64, 16, 20, 16, 4


def _square_flows(**kw) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact (flow_prev_to_cur, flow_cur_to_prev) of the moving square."""
    prev_to_cur = torch.zeros(1, 2, H, W, **kw)
    prev_to_cur[0, 0, Y0 : Y0 + S, X0 : X0 + S] = MOVE
    cur_to_prev = torch.zeros(1, 2, H, W, **kw)
    cur_to_prev[0, 0, Y0 : Y0 + S, X0 + MOVE : X0 + MOVE + S] = -MOVE
    return prev_to_cur, cur_to_prev


def _band() -> tuple[slice, slice]:
    """Rows, columns of frame t disoccluded by the move: background the square covered in t-1."""
    return slice(Y0, Y0 + S), slice(X0, X0 + MOVE)


def _far_from_square() -> torch.Tensor:
    far = torch.ones(H, W, dtype=torch.bool)
    far[Y0 - 2 : Y0 + S + 2, X0 - 2 : X0 + MOVE + S + 2] = False
    return far


class TestConsistencyMask:
    def test_smoke(self, device, dtype):
        prev_to_cur, cur_to_prev = _square_flows(device=device, dtype=dtype)
        mask = consistency_mask(prev_to_cur, cur_to_prev)
        assert mask.shape == (1, 1, H, W) and mask.dtype == dtype and mask.device.type == device.type
        assert set(mask.unique().tolist()) <= {0.0, 1.0}

    def test_static_is_reliable(self, device, dtype):
        zero = torch.zeros(2, 2, 8, 9, device=device, dtype=dtype)
        assert bool((consistency_mask(zero, zero) == 1).all())

    def test_disoccluded_band_flagged(self, device, dtype):
        mask = consistency_mask(*_square_flows(device=device, dtype=dtype))[0, 0].cpu()
        rows, cols = _band()
        assert bool((mask[rows, cols] == 0).all())
        # the moved square itself comes back on the round trip, away from its 1-pixel motion boundary
        assert bool((mask[Y0 + 1 : Y0 + S - 1, X0 + MOVE + 1 : X0 + MOVE + S - 1] == 1).all())
        assert bool((mask[_far_from_square()] == 1).all())

    def test_argument_order_matters(self):
        # Swapped, the mask lives on frame t-1: there the band is covered by the square and reliable.
        prev_to_cur, cur_to_prev = _square_flows()
        swapped = consistency_mask(cur_to_prev, prev_to_cur)[0, 0]
        rows, _ = _band()
        assert bool((swapped[rows.start + 1 : rows.stop - 1, X0 + 1 : X0 + MOVE] == 1).all())
        # and what is flagged is the strip the square uncovers in t (seen from t-1: hidden in t)
        assert bool((swapped[rows, X0 + S : X0 + S + MOVE] == 0).all())

    def test_out_of_frame_flagged(self):
        flow = torch.zeros(1, 2, 6, 8)
        flow[:, 0] = -3.0  # everything came from 3 px to the left: the first 3 columns from outside
        mask = consistency_mask(-flow, flow)[0, 0]
        assert bool((mask[:, :3] == 0).all()) and bool((mask[:, 3:] == 1).all())

    def test_through_dis(self, texture):
        size, move = 32, 6
        background, square = texture(H, W, seed=1), texture(size, size, seed=2)
        prev, cur = background.clone(), background.clone()
        prev[..., Y0 : Y0 + size, X0 : X0 + size] = square
        cur[..., Y0 : Y0 + size, X0 + move : X0 + move + size] = square
        dis = DisFlow("medium")
        mask = consistency_mask(dis(prev, cur), dis(cur, prev))[0, 0]
        band = mask[Y0 + 2 : Y0 + size - 2, X0 : X0 + move]
        far = torch.ones(H, W, dtype=torch.bool)
        far[Y0 - 8 : Y0 + size + 8, X0 - 8 : X0 + move + size + 8] = False
        assert (band == 0).float().mean() > 0.75
        assert (mask[far] == 1).float().mean() > 0.95

    def test_wrong_shape(self):
        good = torch.zeros(1, 2, 4, 4)
        with pytest.raises(ShapeError, match=r"flow_prev_to_cur must be \(B, 2, H, W\), got \(1, 3, 4, 4\)"):
            consistency_mask(torch.zeros(1, 3, 4, 4), good)
        with pytest.raises(ShapeError, match=r"flow_cur_to_prev must be \(B, 2, H, W\), got \(2, 4, 4\)"):
            consistency_mask(good, torch.zeros(2, 4, 4))
        with pytest.raises(ShapeError, match=r"flow_prev_to_cur and flow_cur_to_prev must share"):
            consistency_mask(good, torch.zeros(1, 2, 4, 5))


RUDER = {"relative": RUDER_BOUNDARY_RELATIVE, "absolute": RUDER_BOUNDARY_ABSOLUTE}
DIS_TEARS = {"relative": DIS_TEAR_RELATIVE, "absolute": DIS_TEAR_ABSOLUTE}


class TestMotionBoundaries:
    def test_constant_flow_has_no_boundary(self, device, dtype):
        flow = torch.full((1, 2, 6, 7), 5.0, device=device, dtype=dtype)
        assert not bool(motion_boundaries(flow, **RUDER).any())

    def test_step_flagged_on_both_sides(self, device, dtype):
        flow = torch.zeros(1, 2, 5, 10, device=device, dtype=dtype)
        flow[:, 0, :, 5:] = 3.0
        torn = motion_boundaries(flow, **RUDER)
        assert torn.shape == (1, 1, 5, 10) and torn.dtype == torch.bool
        assert torn[0, 0, 2].tolist() == [False] * 4 + [True, True] + [False] * 4

    def test_each_caller_its_threshold(self):
        # A 0.1 px step: |∇w|² = 0.05² = 0.0025 beside it. Ruder's constant (0.002) calls that a boundary;
        # the one measured for DIS fields (0.02) keeps it, as the small steps of DIS patches are no tears.
        flow = torch.zeros(1, 2, 3, 8)
        flow[:, 1, :, 4:] = 0.1
        assert bool(motion_boundaries(flow, **RUDER)[0, 0, 1, 3:5].all())
        assert not bool(motion_boundaries(flow, **DIS_TEARS).any())
        # The relative term: the same step on a flow of 1 px is within 0.01 |w|² + 0.002 = 0.012.
        flow[:, 0] = 1.0
        assert not bool(motion_boundaries(flow, **RUDER).any())

    def test_wrong_shape(self):
        with pytest.raises(ShapeError, match=r"flow must be \(B, 2, H, W\), got \(1, 1, 4, 4\)"):
            motion_boundaries(torch.zeros(1, 1, 4, 4), **RUDER)
