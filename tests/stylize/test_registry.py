"""build_stylizer for --method optimize: which start (--init) the optimisation gets, and its checks."""

from __future__ import annotations

import cv2
import pytest
import torch

from vidstyle.errors import UserInputError
from vidstyle.io.convert import to_tensor
from vidstyle.stylize.optimize import OptimizeStylizer
from vidstyle.stylize.registry import StyleRequest, build_stylizer
from vidstyle.synth import synth_frames

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def painting(tmp_path_factory) -> str:
    """A painting of our own as --style PATH (the Magenta network paints with it)."""
    path = tmp_path_factory.mktemp("style") / "painting.png"
    cv2.imwrite(str(path), synth_frames(1, 96, 96, seed=7)[0])
    return str(path)


class TestOptimizeInit:
    def test_feedforward_starts_from_the_network_painting(self, painting):
        stylizer = build_stylizer(StyleRequest(style=painting, method="optimize", init="feedforward"), CPU)
        network = build_stylizer(StyleRequest(style=painting), CPU)
        frame = to_tensor(synth_frames(1, 64, 48, seed=2)[0])
        assert isinstance(stylizer, OptimizeStylizer) and stylizer.settings.init == "feedforward"
        torch.testing.assert_close(stylizer.disocclusion_fill(frame), network.stylize(frame))

    @pytest.mark.parametrize("init", [None, "content", "random"])
    def test_other_starts_load_no_network(self, painting, init):
        stylizer = build_stylizer(StyleRequest(style=painting, method="optimize", init=init), CPU)
        assert stylizer.settings.init == (init or "content") and stylizer.network is None

    @pytest.mark.parametrize(("method", "init", "message"), [
        ("optimize", "zeros", "--init must be one of content, random, feedforward, got 'zeros'"),
        ("feedforward", "content", "--init applies to --method optimize"),
    ])
    def test_rejects(self, method, init, message):
        with pytest.raises(UserInputError, match=message):
            StyleRequest(style="starry_night", method=method, init=init)
