from __future__ import annotations

import pytest
import torch

from vidstyle.errors import ShapeError
from vidstyle.flow.warp import backward_warp, flow_in_frame


def _constant_flow(b: int, h: int, w: int, dx: float, dy: float, **kw) -> torch.Tensor:
    flow = torch.zeros(b, 2, h, w, **kw)
    flow[:, 0] = dx
    flow[:, 1] = dy
    return flow


class TestBackwardWarp:
    def test_smoke(self, device, dtype):
        image = torch.rand(2, 3, 5, 7, device=device, dtype=dtype)
        out = backward_warp(image, torch.zeros(2, 2, 5, 7, device=device, dtype=dtype))
        assert out.shape == (2, 3, 5, 7)
        assert out.dtype == dtype and out.device.type == device.type

    def test_zero_flow_is_identity(self, device, dtype):
        image = torch.rand(1, 4, 6, 9, device=device, dtype=dtype)
        out = backward_warp(image, torch.zeros(1, 2, 6, 9, device=device, dtype=dtype))
        torch.testing.assert_close(out, image)

    def test_shift(self, device, dtype):
        # output(p) = image(p + flow(p)): flow (2, -1) reads two columns right and one row up.
        image = torch.arange(5 * 6, device=device, dtype=dtype).view(1, 1, 5, 6)
        out = backward_warp(image, _constant_flow(1, 5, 6, 2.0, -1.0, device=device, dtype=dtype))
        torch.testing.assert_close(out[..., 1:, :-2], image[..., :-1, 2:])
        # border padding: beyond the edge the edge pixel repeats
        torch.testing.assert_close(out[..., 1:, -1], image[..., :-1, -1])
        torch.testing.assert_close(out[..., 0, :-2], image[..., 0, 2:])

    def test_half_pixel_is_bilinear(self, device, dtype):
        image = torch.tensor([[0.0, 2.0, 4.0], [6.0, 8.0, 10.0]], device=device, dtype=dtype).view(1, 1, 2, 3)
        out = backward_warp(image, _constant_flow(1, 2, 3, 0.5, 0.5, device=device, dtype=dtype))
        assert out[0, 0, 0, 0].item() == pytest.approx((0 + 2 + 6 + 8) / 4)

    @pytest.mark.parametrize("mode", ["bilinear", "bicubic", "nearest"])
    def test_modes_agree_on_integer_shift(self, device, dtype, mode):
        image = torch.rand(1, 2, 6, 7, device=device, dtype=dtype)
        out = backward_warp(image, _constant_flow(1, 6, 7, -1.0, 1.0, device=device, dtype=dtype), mode)
        torch.testing.assert_close(out[..., :-1, 1:], image[..., 1:, :-1])

    def test_batch(self, device, dtype):
        image = torch.rand(3, 2, 6, 8, device=device, dtype=dtype)
        flow = torch.randn(3, 2, 6, 8, device=device, dtype=dtype)
        out = backward_warp(image, flow)
        for i in range(3):
            torch.testing.assert_close(out[i : i + 1], backward_warp(image[i : i + 1], flow[i : i + 1]))

    def test_flow_dtype_follows_image(self, device):
        image = torch.rand(1, 3, 4, 4, device=device, dtype=torch.float64)
        out = backward_warp(image, torch.zeros(1, 2, 4, 4, device=device, dtype=torch.float32))
        assert out.dtype == torch.float64

    def test_inside_inference_mode_then_autograd(self, device):
        # The cached grid must not become an inference tensor that autograd later refuses.
        with torch.inference_mode():
            backward_warp(torch.rand(1, 1, 5, 5, device=device), torch.zeros(1, 2, 5, 5, device=device))
        image = torch.rand(1, 1, 5, 5, device=device, requires_grad=True)
        flow = torch.full((1, 2, 5, 5), 0.3, device=device, requires_grad=True)
        backward_warp(image, flow).sum().backward()
        assert image.grad is not None and flow.grad is not None

    @pytest.mark.parametrize(
        ("image_shape", "flow_shape", "match"),
        [
            ((3, 5, 5), (1, 2, 5, 5), r"image must be \(B, C, H, W\), got \(3, 5, 5\)"),
            ((1, 3, 5, 5), (1, 3, 5, 5), r"flow must be \(B, 2, H, W\), got \(1, 3, 5, 5\)"),
            ((1, 3, 5, 5), (1, 2, 5, 6), r"image and flow must share \(B, H, W\)"),
            ((2, 3, 5, 5), (1, 2, 5, 5), r"image and flow must share \(B, H, W\)"),
        ],
    )
    def test_wrong_shape(self, image_shape, flow_shape, match):
        with pytest.raises(ShapeError, match=match):
            backward_warp(torch.rand(image_shape), torch.zeros(flow_shape))

    def test_gradcheck(self, device):
        g = torch.Generator().manual_seed(0)
        image = torch.rand(1, 2, 4, 5, generator=g, dtype=torch.float64).to(device).requires_grad_()
        # fractional, in-frame displacements: away from the kinks of bilinear sampling and the border
        flow = (torch.rand(1, 2, 4, 5, generator=g, dtype=torch.float64) * 0.8 + 0.1).to(device)
        flow[:, :, :, -1] *= -1
        flow[:, :, -1, :] *= -1
        flow.requires_grad_()
        assert torch.autograd.gradcheck(backward_warp, (image, flow), fast_mode=True)


class TestFlowInFrame:
    def test_zero_flow_all_inside(self, device, dtype):
        mask = flow_in_frame(torch.zeros(2, 2, 4, 6, device=device, dtype=dtype))
        assert mask.shape == (2, 1, 4, 6) and mask.dtype == dtype
        assert bool((mask == 1).all())

    def test_shift_marks_leaving_columns(self, device, dtype):
        mask = flow_in_frame(_constant_flow(1, 4, 6, 2.0, 0.0, device=device, dtype=dtype))
        assert bool((mask[..., :4] == 1).all())
        assert bool((mask[..., 4:] == 0).all())

    def test_edges_count_as_inside(self, device, dtype):
        flow = _constant_flow(1, 3, 3, 0.0, 0.0, device=device, dtype=dtype)
        flow[0, 1, 0, 0] = 2.0  # lands exactly on the last row: inside
        flow[0, 1, 0, 1] = 2.001  # just past it: outside
        flow[0, 0, 0, 2] = -2.0  # lands exactly on the first column: inside
        mask = flow_in_frame(flow)[0, 0, 0].tolist()
        assert mask == [1.0, 0.0, 1.0]

    def test_wrong_shape(self):
        with pytest.raises(ShapeError, match=r"flow must be \(B, 2, H, W\), got \(2, 4, 4\)"):
            flow_in_frame(torch.zeros(2, 4, 4))


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("height", [36, 35])  # 35 rows: bands must divide the height (one band when none do)
def test_sampling_in_row_bands_is_bit_identical(mode, height):
    """A single CPU frame is sampled as a batch of row bands (one thread each): the same values as one
    ``grid_sample`` call, bit for bit."""
    import torch.nn.functional as F

    from vidstyle.flow.warp import FlowSampler

    g = torch.Generator().manual_seed(0)
    image = torch.rand(1, 3, height, 50, generator=g)
    flow = torch.randn(1, 2, height, 50, generator=g) * 4
    sampler = FlowSampler(flow)
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        out = sampler.warp(image, mode)
    finally:
        torch.set_num_threads(previous)
    grid = sampler.points * torch.tensor([2.0 / 49, 2.0 / (height - 1)]) - 1.0
    assert torch.equal(out, F.grid_sample(image, grid, mode=mode, padding_mode="border", align_corners=True))
