"""build_temporal: which filter a method gets, with the weight and long-term frames asked for."""

from __future__ import annotations

import pytest
import torch

from vidstyle.errors import UserInputError
from vidstyle.flow.opencv import DisFlow
from vidstyle.stylize.base import IdentityStylizer
from vidstyle.temporal.consistency import FlowTemporalFilter, TemporalSettings
from vidstyle.temporal.factory import build_temporal
from vidstyle.temporal.longterm import LONG_TERM_FRAMES
from vidstyle.temporal.ruder import RuderTemporalFilter


def test_feedforward_gets_the_flow_filter_with_its_settings():
    filt = build_temporal("feedforward", DisFlow(), IdentityStylizer())
    assert type(filt) is FlowTemporalFilter and filt.settings == TemporalSettings()
    filt = build_temporal("feedforward", DisFlow(), IdentityStylizer(), weight=3.0, long_term=True)
    assert filt.settings == TemporalSettings(weight=3.0, long_term=LONG_TERM_FRAMES)


class _Named:
    """A stylizer known only by its network's name."""

    device = torch.device("cpu")

    def __init__(self, name: str) -> None:
        self.name = name

    def stylize(self, content: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        return content


@pytest.mark.parametrize(("network", "energy"), [("cin26", 1.0), ("johnson", 1.0), ("magenta", 0.0)])
def test_contrast_gain_follows_the_network(network, energy):
    """The frame's contrast gain is on where blending washes the network's style out (CIN-26, by
    measurement; any other network by default) and off for Magenta, whose blended frames keep it."""
    filt = build_temporal("feedforward", DisFlow(), _Named(network), weight=3.0)
    assert filt.settings == TemporalSettings(weight=3.0, energy=energy)


def test_optimize_gets_ruder_with_the_stylizer_as_solver():
    from vidstyle.stylize.optimize import OptimizeStylizer

    stylizer = OptimizeStylizer(torch.rand(1, 3, 16, 16))
    filt = build_temporal("optimize", DisFlow(), stylizer, weight=7.0)
    assert type(filt) is RuderTemporalFilter and filt.solver is stylizer and filt.temporal_weight == 7.0
    with pytest.raises(UserInputError, match="needs the optimisation stylizer"):
        build_temporal("optimize", DisFlow(), IdentityStylizer())
    with pytest.raises(UserInputError, match="unknown method"):
        build_temporal("magic", DisFlow(), IdentityStylizer())
