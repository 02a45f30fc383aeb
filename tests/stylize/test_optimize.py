"""Gatys optimisation (OptimizeStylizer) and its Ruder temporal term, on small generated images."""

from __future__ import annotations

import math

import pytest
import torch

from vidstyle.errors import ShapeError, UserInputError
from vidstyle.io.convert import to_uint8
from vidstyle.stylize.feedforward import MagentaStylizer, StyleVectorComputer
from vidstyle.stylize.losses import style_distance
from vidstyle.stylize.optimize import OptimizeSettings, OptimizeStylizer
from vidstyle.stylize.vgg import load_vgg19

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
FAST = OptimizeSettings(iterations=25, scales=(0.5, 1.0))  # enough to move a 64x64 image a long way


def _content(h: int = 64, w: int = 64) -> torch.Tensor:
    """(1, 3, h, w) 0..1: a soft disc on a colour ramp."""
    y = torch.linspace(-1, 1, h).view(h, 1).expand(h, w)
    x = torch.linspace(-1, 1, w).view(1, w).expand(h, w)
    disc = torch.sigmoid((0.5 - (x**2 + y**2).sqrt()) * 12)
    return torch.stack([0.2 + 0.6 * disc, 0.3 + 0.3 * (x + 1) / 2, 0.8 - 0.6 * disc])[None].clamp(0, 1)


def _stripes(h: int = 64, w: int = 64) -> torch.Tensor:
    """(1, 3, h, w) 0..1: saturated diagonal stripes, orange on dark blue."""
    y = torch.arange(h).view(h, 1).expand(h, w)
    x = torch.arange(w).view(1, w).expand(h, w)
    on = (torch.sin((x + y) * 2 * math.pi / 8) > 0).float()
    return torch.stack([0.1 + 0.85 * on, 0.15 + 0.45 * on, 0.5 - 0.4 * on])[None]


@pytest.fixture(scope="module")
def stylizer() -> OptimizeStylizer:
    return OptimizeStylizer(_stripes(), FAST)


@pytest.fixture(scope="module")
def solved(stylizer):
    return stylizer.optimize(_content())


class TestOptimizeStylizer:
    def test_paints_only_its_own_painting(self, stylizer):
        assert stylizer.name == "optimize" and stylizer.device == torch.device("cpu")
        with pytest.raises(UserInputError, match="a style per frame needs a feed-forward network"):
            stylizer.stylize(_content(), torch.zeros(1, 100))

    def test_shape_range_dtype(self, solved):
        image = solved.image
        assert image.shape == (1, 3, 64, 64) and image.dtype == torch.float32
        assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0

    def test_history_has_every_evaluation_per_scale(self, solved):
        assert [r.scale for r in solved.history] == [0] * 25 + [1] * 25

    def test_lowers_the_loss_at_each_scale(self, solved):
        for scale in (0, 1):
            records = [r for r in solved.history if r.scale == scale]
            assert records[-1].total < 0.5 * records[0].total
            assert records[-1].style < records[0].style

    def test_moves_towards_the_style(self, solved):
        vgg, style, content = load_vgg19("cpu"), _stripes(), _content()
        assert style_distance(solved.image, style, vgg) < 0.3 * style_distance(content, style, vgg)

    def test_callback_sees_each_record(self, stylizer):
        seen = []
        result = stylizer.optimize(_content(32, 32), callback=seen.append)
        assert seen == result.history

    def test_adam_lowers_the_loss(self):
        settings = OptimizeSettings(iterations=20, scales=(1.0,), optimizer="adam", learning_rate=0.05)
        history = OptimizeStylizer(_stripes(), settings).optimize(_content(48, 48)).history
        assert history[-1].total < 0.7 * history[0].total

    def test_random_init_is_seeded(self):
        settings = OptimizeSettings(iterations=2, scales=(1.0,), init="random", seed=3)
        a = OptimizeStylizer(_stripes(), settings).stylize(_content(32, 32))
        b = OptimizeStylizer(_stripes(), settings).stylize(_content(32, 32))
        torch.testing.assert_close(a, b)

    def test_given_init_runs_at_full_size_only(self):
        settings = OptimizeSettings(iterations=3, scales=(0.25, 0.5, 1.0))
        history = OptimizeStylizer(_stripes(), settings).optimize(_content(), init=_stripes()).history
        assert [r.scale for r in history] == [2, 2, 2]

    def test_style_grams_are_computed_once_per_size(self):
        stylizer = OptimizeStylizer(_stripes(), OptimizeSettings(iterations=1))
        stylizer.stylize(_content(32, 32))
        before = dict(stylizer._grams)
        stylizer.stylize(_content(32, 32))
        assert stylizer._grams.keys() == before.keys()
        assert all(stylizer._grams[k] is before[k] for k in before)

    def test_accepts_a_non_contiguous_init(self):
        init = _stripes().contiguous(memory_format=torch.channels_last)
        stylizer = OptimizeStylizer(_stripes(), OptimizeSettings(iterations=2))
        image = stylizer.optimize(_content(), init=init).image
        assert image.shape == (1, 3, 64, 64)

    @CUDA
    def test_follows_a_cuda_input(self):
        out = OptimizeStylizer(_stripes(), OptimizeSettings(iterations=3)).stylize(_content().cuda())
        assert out.device.type == "cuda"

    def test_bad_content_shape(self, stylizer):
        with pytest.raises(ShapeError, match=r"content must be \(1, 3, H, W\), got \(2, 3, 8, 8\)"):
            stylizer.stylize(torch.zeros(2, 3, 8, 8))


def _negative(content: torch.Tensor) -> torch.Tensor:
    """A stand-in network: the photographic negative, (1, 3, H, W) 0..1 -> the same."""
    return 1.0 - content


class TestFeedforwardInit:
    def test_reaches_a_lower_loss_than_the_content_start(self):
        """The Magenta network's painting of the frame (what --style stripes.png gives) is a better start than
        the frame itself: after the same 10 full-size iterations the loss is well below."""
        network = MagentaStylizer(StyleVectorComputer()(to_uint8(_stripes()))).stylize
        settings = OptimizeSettings(iterations=10, scales=(1.0,))
        content_start = OptimizeStylizer(_stripes(), settings).optimize(_content()).history
        network_start = OptimizeStylizer(_stripes(), OptimizeSettings(iterations=10, init="feedforward"),
                                         network).optimize(_content()).history
        assert len(network_start) == len(content_start) == 10
        assert network_start[-1].total < 0.7 * content_start[-1].total

    def test_starts_at_full_size_from_the_network_painting(self):
        settings = OptimizeSettings(iterations=2, scales=(0.5, 1.0), init="feedforward")
        from_network = OptimizeStylizer(_stripes(), settings, _negative).optimize(_content(32, 32))
        given = OptimizeStylizer(_stripes(), OptimizeSettings(iterations=2)).optimize(
            _content(32, 32), init=_negative(_content(32, 32)))
        assert [r.scale for r in from_network.history] == [1, 1]
        torch.testing.assert_close(from_network.image, given.image)

    def test_disocclusions_are_filled_from_the_start(self):
        content = _content(32, 32)
        network_start = OptimizeStylizer(_stripes(), OptimizeSettings(init="feedforward"), _negative)
        torch.testing.assert_close(network_start.disocclusion_fill(content), _negative(content))
        assert OptimizeStylizer(_stripes(), OptimizeSettings(), _negative).disocclusion_fill(content) is content

    def test_needs_a_network(self):
        with pytest.raises(UserInputError, match="init 'feedforward' needs the style's feed-forward network"):
            OptimizeStylizer(_stripes(), OptimizeSettings(init="feedforward"))


class TestTemporalTerm:
    def test_stays_closer_to_warped_prev_under_the_mask(self, stylizer, solved):
        content = _content()
        warped_prev = solved.image  # as if the previous stylized frame had not moved
        init = warped_prev.clone()
        mask = torch.zeros(1, 1, 64, 64)
        mask[..., :, :32] = 1.0  # left half trusted, right half "disoccluded"

        def masked_error(image: torch.Tensor) -> float:
            return float((mask * (image - warped_prev).square()).sum() / (3 * mask.sum()))

        # Shift the content so that a plain solve from init drifts away from warped_prev.
        moved = torch.roll(content, shifts=6, dims=-1)
        free = stylizer.optimize(moved, init=init, warped_prev=warped_prev, mask=mask, temporal_weight=0.0)
        tied = stylizer.optimize(moved, init=init, warped_prev=warped_prev, mask=mask, temporal_weight=1e3)
        assert masked_error(tied.image) < 0.5 * masked_error(free.image)
        assert all(r.temporal == 0.0 for r in free.history) and tied.history[-1].temporal > 0.0

    def test_stylize_with_temporal_is_the_same_solve(self, stylizer, solved):
        content, mask = _content(), torch.ones(1, 1, 64, 64)
        a = stylizer.stylize_with_temporal(content, solved.image, solved.image, mask, 100.0)
        b = stylizer.optimize(content, init=solved.image, warped_prev=solved.image, mask=mask,
                              temporal_weight=100.0).image
        torch.testing.assert_close(a, b)

    def test_needs_both_warped_prev_and_mask(self, stylizer):
        with pytest.raises(UserInputError, match="needs both warped_prev and mask"):
            stylizer.optimize(_content(), warped_prev=_content())

    def test_mask_size(self, stylizer):
        with pytest.raises(ShapeError, match="content and mask must share"):
            stylizer.optimize(_content(), warped_prev=_content(), mask=torch.ones(1, 1, 32, 32))


class TestOptimizeSettings:
    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"iterations": 0}, "iterations must be at least 1, got 0"),
            ({"optimizer": "sgd"}, "optimizer must be one of lbfgs, adam, got 'sgd'"),
            ({"init": "zeros"}, "init must be one of content, random, feedforward, got 'zeros'"),
            ({"pooling": "min"}, "pooling must be one of max, avg, got 'min'"),
            ({"scales": (1.0, 0.5)}, r"scales must lie in \(0, 1\] and end with 1.0"),
            ({"scales": (0.5, 0.25, 1.0)}, "scales must go from coarse to fine"),
            ({"style_layers": ("relu9_1",)}, r"relu names, got \['relu9_1'\]"),
            ({"style_weight": -1.0}, "loss weights must not be negative"),
            ({"style_scale": 0.0}, "style_scale must be positive, got 0.0"),
        ],
    )
    def test_rejects(self, change, message):
        with pytest.raises(UserInputError, match=message):
            OptimizeSettings(**change)

    def test_frozen(self):
        with pytest.raises(AttributeError):
            OptimizeSettings().iterations = 5  # type: ignore[misc]
