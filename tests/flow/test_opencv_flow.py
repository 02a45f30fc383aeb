from __future__ import annotations

import pytest
import torch

from vidstyle.errors import ShapeError, UserInputError
from vidstyle.flow.base import FlowEstimator
from vidstyle.flow.opencv import DIS_PRESETS, DisFlow, FarnebackFlow
from vidstyle.flow.warp import backward_warp

SHIFT = (3, -2)  # (x, y) pixels: source(p) = target(p + SHIFT)
H, W = 96, 128
MARGIN = 12


@pytest.fixture(scope="module")
def translated_pair(texture) -> tuple[torch.Tensor, torch.Tensor]:
    """(source, target) crops of one smooth texture with source(p) = target(p + SHIFT) exactly."""
    dx, dy = SHIFT
    big = texture(H + 2 * MARGIN, W + 2 * MARGIN, seed=3)
    source = big[..., MARGIN : MARGIN + H, MARGIN : MARGIN + W]
    target = big[..., MARGIN - dy : MARGIN - dy + H, MARGIN - dx : MARGIN - dx + W]
    return source.contiguous(), target.contiguous()


def _interior(x: torch.Tensor) -> torch.Tensor:
    return x[..., MARGIN:-MARGIN, MARGIN:-MARGIN]


def _check_recovers_shift(estimator, source, target, tolerance=0.3):
    flow = estimator(source, target)
    assert flow.shape == (source.shape[0], 2, H, W)
    for channel, expected in enumerate(SHIFT):
        median = _interior(flow[:, channel]).median().item()
        assert median == pytest.approx(expected, abs=tolerance), f"channel {channel}"


def _check_convention(estimator, source, target):
    # vidstyle.flow.base: backward_warp(target, estimator(source, target)) rebuilds source.
    rebuilt = backward_warp(target, estimator(source, target))
    error = _interior(rebuilt - source).abs().mean()
    baseline = _interior(target - source).abs().mean()
    assert error < 0.2 * baseline


class TestDisFlow:
    def test_is_flow_estimator(self):
        assert isinstance(DisFlow(), FlowEstimator)
        assert DisFlow().name == "dis"

    @pytest.mark.parametrize("preset", list(DIS_PRESETS))
    def test_recovers_translation(self, translated_pair, preset):
        _check_recovers_shift(DisFlow(preset), *translated_pair)

    def test_convention(self, translated_pair):
        _check_convention(DisFlow(), *translated_pair)

    def test_scale(self, translated_pair):
        # computed at half size, vectors come back in full-size pixels
        _check_recovers_shift(DisFlow(scale=0.5), *translated_pair)

    def test_batch_and_dtype(self, translated_pair):
        source, target = (torch.cat([x, x.flip(-1)]).double() for x in translated_pair)
        estimator = DisFlow()
        flow = estimator(source, target)
        assert flow.shape == (2, 2, H, W) and flow.dtype == torch.float64
        torch.testing.assert_close(flow[:1], estimator(source[:1], target[:1]))
        # the mirrored pair moves the other way in x
        assert _interior(flow[1, 0]).median().item() == pytest.approx(-SHIFT[0], abs=0.3)

    def test_reuses_one_opencv_object(self, translated_pair):
        estimator = DisFlow()
        first = estimator._dis
        estimator(*translated_pair)
        estimator(*translated_pair)
        assert estimator._dis is first

    def test_bad_preset(self):
        match = r"DIS preset must be one of ultrafast, fast, medium, got 'slow'"
        with pytest.raises(UserInputError, match=match):
            DisFlow("slow")

    @pytest.mark.parametrize("scale", [0.0, -0.5, 1.5])
    def test_bad_scale(self, scale):
        with pytest.raises(UserInputError, match=r"flow scale must be in \(0, 1\]"):
            DisFlow(scale=scale)

    def test_refinement_iterations(self, translated_pair):
        _check_recovers_shift(DisFlow(refinement_iterations=2), *translated_pair)
        with pytest.raises(UserInputError, match=r"DIS refinement iterations must be >= 0, got -1"):
            DisFlow(refinement_iterations=-1)

    def test_wrong_shape(self):
        with pytest.raises(ShapeError, match=r"source must be \(B, 3, H, W\), got \(1, 1, 8, 8\)"):
            DisFlow()(torch.rand(1, 1, 8, 8), torch.rand(1, 3, 8, 8))
        with pytest.raises(ShapeError, match=r"source and target must share \(B, H, W\)"):
            DisFlow()(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 9))


class TestFarnebackFlow:
    def test_is_flow_estimator(self):
        assert isinstance(FarnebackFlow(), FlowEstimator)
        assert FarnebackFlow().name == "farneback"

    def test_reference_parameters(self):
        # ../shared/tools/vsmeasure.py: pyr 0.5, 5 levels, window 21, 5 iterations, poly_n 7, sigma 1.5
        assert FarnebackFlow().params == (0.5, 5, 21, 5, 7, 1.5)

    def test_recovers_translation(self, translated_pair):
        _check_recovers_shift(FarnebackFlow(), *translated_pair)

    def test_convention(self, translated_pair):
        _check_convention(FarnebackFlow(), *translated_pair)

    def test_scale(self, translated_pair):
        _check_recovers_shift(FarnebackFlow(scale=0.5), *translated_pair)

    def test_wrong_shape(self):
        with pytest.raises(ShapeError, match=r"target must be \(B, 3, H, W\), got \(3, 8, 8\)"):
            FarnebackFlow()(torch.rand(1, 3, 8, 8), torch.rand(3, 8, 8))
