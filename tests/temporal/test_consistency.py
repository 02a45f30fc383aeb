"""Tests for vidstyle.temporal.consistency: the blend, the motion mask and the temporal filter.

Synthetic frames only, and cheap fake stylizers in place of a network: ``Pointwise`` paints each pixel
from its own colour (so a perfectly consistent output equals its stylization), ``Flicker`` adds a
fresh noise texture to every frame, the way a feed-forward network's strokes change between frames.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vidstyle.errors import ShapeError
from vidstyle.flow.opencv import DisFlow
from vidstyle.flow.warp import FlowSampler, backward_warp, flow_in_frame
from vidstyle.io.convert import to_tensor
from vidstyle.metrics import warp_errors
from vidstyle.synth import synth_frames
from vidstyle.temporal.longterm import compose_flow
from vidstyle.flow.occlusion import motion_boundaries
from vidstyle.temporal.consistency import (
    BOUNDARY_BAND_SIGMA,
    COARSE_SIGMA,
    DETAIL_SIGMA,
    ENERGY_SIGMA,
    MAX_ENERGY_GAIN,
    DIS_TEAR_ABSOLUTE,
    DIS_TEAR_RELATIVE,
    FLAT_DETAIL,
    STILLNESS_SIGMA,
    FlowTemporalFilter,
    TemporalSettings,
    _blur,
    _expanded,
    _halved,
    _quartered,
    _smooth,
    blend,
    carried_detail,
    consistent_frame,
    motion_mask,
    restored_energy,
    zoom_share,
)

H, W = 72, 96


def texture(height: int = H, width: int = W, *, cell: int = 4, seed: int = 0) -> torch.Tensor:
    """(1, 3, H, W) float RGB 0..1: smooth bicubic noise, rich enough for optical flow to track."""
    g = torch.Generator().manual_seed(seed)
    noise = torch.rand(1, 3, height // cell + 4, width // cell + 4, generator=g)
    big = F.interpolate(noise, scale_factor=cell, mode="bicubic", align_corners=False)
    return big[..., 2 * cell : 2 * cell + height, 2 * cell : 2 * cell + width].clamp(0.0, 1.0).contiguous()


class Pointwise:
    """A deterministic per-pixel 'painting': channels rotated and contrast raised."""

    name = "pointwise"
    device = torch.device("cpu")

    def stylize(self, content: torch.Tensor) -> torch.Tensor:
        return (1.5 * (content[:, [1, 2, 0]] - 0.5) + 0.5).clamp(0.0, 1.0)


class Flicker:
    """Content plus a noise texture that changes with every frame (seeded by the frame's content)."""

    name = "flicker"
    device = torch.device("cpu")

    def __init__(self, amplitude: float = 0.15) -> None:
        self.amplitude = amplitude

    def stylize(self, content: torch.Tensor) -> torch.Tensor:
        seed = int(content.double().sum().item() * 1000) % (2**31)
        _, _, h, w = content.shape
        noise = texture(h, w, cell=2, seed=seed) - 0.5
        return (content + 2 * self.amplitude * noise).clamp(0.0, 1.0)


class Glow:
    """Content plus a yellow glow around red things, reaching ~10 px beyond them: like a network's halo
    around a sun, painted where the input itself is plain background."""

    name = "glow"
    device = torch.device("cpu")

    def stylize(self, content: torch.Tensor) -> torch.Tensor:
        red = (content[:, :1] - content[:, 1:2]).clamp(0.0, 1.0)
        glow = F.avg_pool2d(F.avg_pool2d(red, 11, stride=1, padding=5), 11, stride=1, padding=5)
        return (content + 4.0 * glow * torch.tensor([0.5, 0.5, 0.0]).view(1, 3, 1, 1)).clamp(0.0, 1.0)


class ZeroFlow:
    """A flow estimator for scenes that do not move."""

    name = "zero"

    def __call__(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return torch.zeros(source.shape[0], 2, *source.shape[-2:], dtype=source.dtype)


def _run(frames: list[torch.Tensor], stylizer, settings: TemporalSettings = TemporalSettings(),
         flow=None) -> list[torch.Tensor]:
    filt = FlowTemporalFilter(flow or DisFlow(), settings)
    return [filt.step(f, stylizer.stylize) for f in frames]


def _numpy(image: torch.Tensor) -> np.ndarray:
    return image[0].permute(1, 2, 0).numpy().astype(np.float32)


class TestBlend:
    def test_closed_form(self):
        current = torch.zeros(1, 1, 1, 3, dtype=torch.float64)
        warped = torch.ones(1, 1, 1, 3, dtype=torch.float64)
        mask = torch.tensor([1.0, 0.5, 0.0], dtype=torch.float64).view(1, 1, 1, 3)
        # (0 + λm·1) / (1 + λm) with λ = 3: 3/4, 1.5/2.5, 0
        out = blend(current, warped, mask, 3.0)
        torch.testing.assert_close(out, torch.tensor([0.75, 0.6, 0.0], dtype=torch.float64).view(1, 1, 1, 3))

    def test_minimises_temporal_loss(self):
        current, warped = texture(8, 8, seed=1), texture(8, 8, seed=2)
        mask = torch.rand(1, 1, 8, 8, generator=torch.Generator().manual_seed(3))
        out = blend(current, warped, mask, 5.0)
        # the gradient of |O - S|² + λM|O - W|² vanishes at the closed form
        torch.testing.assert_close((out - current) + 5.0 * mask * (out - warped), torch.zeros_like(out))

    def test_mask_zero_gives_current(self):
        current, warped = texture(seed=1), texture(seed=2)
        out = blend(current, warped, torch.zeros(1, 1, H, W), 8.0, contrast=0.5)
        torch.testing.assert_close(out, current)

    def test_identical_inputs_unchanged(self):
        image = texture(seed=4)
        out = blend(image, image, torch.ones(1, 1, H, W), 8.0, contrast=1.0)
        torch.testing.assert_close(out, image)

    def test_contrast_restores_local_std(self):
        # Two unrelated textures of equal contrast: their mean has less, the restored blend has it back.
        a, b = texture(cell=2, seed=5), texture(cell=2, seed=6)
        mask = torch.ones(1, 1, H, W)
        std = a.std().item()
        plain = blend(a, b, mask, 1.0).std().item()
        half = blend(a, b, mask, 1.0, contrast=0.5).std().item()
        full = blend(a, b, mask, 1.0, contrast=1.0).std().item()
        assert plain < 0.8 * std
        assert plain < half < full
        assert full == pytest.approx(std, rel=0.1)

    def test_contrast_map(self):
        # A per-pixel contrast picks, pixel by pixel, between the plain and the fully restored blend.
        a, b = texture(cell=2, seed=5), texture(cell=2, seed=6)
        mask = torch.ones(1, 1, H, W)
        where = torch.zeros(1, 1, H, W)
        where[..., W // 2 :] = 1.0
        out = blend(a, b, mask, 1.0, contrast=where)
        torch.testing.assert_close(out[..., : W // 2], blend(a, b, mask, 1.0)[..., : W // 2])
        torch.testing.assert_close(out[..., W // 2 :], blend(a, b, mask, 1.0, contrast=1.0)[..., W // 2 :])

    def test_shape_errors(self):
        image = torch.zeros(1, 3, 8, 8)
        with pytest.raises(ShapeError, match=r"mask must be \(B, 1, H, W\), got \(1, 3, 8, 8\)"):
            blend(image, image, image, 1.0)
        with pytest.raises(ShapeError, match="warped must match current"):
            blend(image, image[:, :1], image[:, :1], 1.0)


def _motion_mask(content: torch.Tensor, previous: torch.Tensor, flow: torch.Tensor):
    return motion_mask(content, previous, FlowSampler(flow), TemporalSettings())


class TestMotionMask:
    def test_static_scene_stays_still(self):
        frame = texture(seed=7)
        spurious = torch.full((1, 2, H, W), 0.7)
        moving, mask = _motion_mask(frame, frame, spurious)
        assert not moving.any()  # DIS-like sub-pixel noise on a still frame is not motion
        torch.testing.assert_close(mask, torch.ones_like(mask))

    def test_true_motion_kept(self):
        # The scene moves 3 px left between t-1 and t: frame_t(p) = frame_prev(p + 3).
        wide = texture(H, W + 8, seed=8)
        prev, cur = wide[..., :W], wide[..., 3 : W + 3]
        exact = torch.zeros(1, 2, H, W)
        exact[:, 0] = 3.0
        moving, mask = _motion_mask(cur, prev, exact)
        assert bool(moving[..., 8:-8, 8:-8].all())
        assert mask[..., 8:-8, 8:-8].min() > 0.99

    def test_occlusion_rejected(self):
        # A black square moves 4 px right over a static texture: the strip it uncovers must be 0.
        bg = texture(seed=9)
        prev, cur = bg.clone(), bg.clone()
        prev[..., 20:40, 30:50] = 0.0
        cur[..., 20:40, 34:54] = 0.0
        flow = torch.zeros(1, 2, H, W)
        flow[:, 0, 20:40, 34:54] = -4.0  # the square came from 4 px to the left
        _, mask = _motion_mask(cur, prev, flow)
        assert mask[..., 21:39, 31:33].max() < 0.05
        # around the square's motion boundary the weight drops to boundary_weight; far away it is 1
        assert mask[..., 16, 40].item() == pytest.approx(TemporalSettings().boundary_weight, abs=0.01)
        assert mask[..., :5, :].min() > 0.99


class TestFlowTemporalFilter:
    def test_first_frame_is_fresh(self):
        frame = texture(seed=10)
        out = FlowTemporalFilter(DisFlow()).step(frame, Flicker().stylize)
        torch.testing.assert_close(out, Flicker().stylize(frame), rtol=0, atol=0)

    def test_static_scene_converges(self):
        frame = texture(seed=11)
        stylizer = Flicker()
        noisy = [stylizer.stylize(texture(seed=100 + k)) for k in range(4)]

        class SettlingStylizer:
            """Unrelated strokes for the first frames, then the same painting every frame."""

            name, device, calls = "settling", torch.device("cpu"), 0

            def stylize(self, content):
                self.calls += 1
                return noisy[self.calls - 1] if self.calls <= len(noisy) else Pointwise().stylize(content)

        outs = _run([frame] * 160, SettlingStylizer(), flow=ZeroFlow())
        target = Pointwise().stylize(frame)
        assert (outs[-1] - outs[-2]).abs().max() < 1e-3
        assert (outs[-1] - target).abs().mean() < 5e-3
        # and it is the temporal filter that made it take that long
        assert (outs[len(noisy)] - target).abs().mean() > 0.05

    def test_scene_cut_resets(self):
        a, b = texture(seed=12), 1.0 - texture(cell=3, seed=13)
        filt = FlowTemporalFilter(DisFlow())
        stylizer = Flicker()
        filt.step(a, stylizer.stylize)
        filt.step(a, stylizer.stylize)
        out = filt.step(b, stylizer.stylize)
        assert filt.cuts == 1
        torch.testing.assert_close(out, stylizer.stylize(b), rtol=0, atol=0)

    @pytest.mark.parametrize("long_term", [(), (2, 4)])
    def test_state_dict_round_trip(self, long_term):
        frames = [to_tensor(f) for f in synth_frames(9, W, H)]
        stylizer = Flicker()
        settings = TemporalSettings(long_term=long_term)
        first = FlowTemporalFilter(DisFlow(), settings)
        for f in frames[:5]:
            first.step(f, stylizer.stylize)
        state = {k: v.clone() for k, v in first.state_dict().items()}
        assert state and all(isinstance(v, torch.Tensor) for v in state.values())
        assert any(k.startswith("older") for k in state) == bool(long_term)
        resumed = FlowTemporalFilter(DisFlow(), settings)
        resumed.load_state_dict(state)
        for f in frames[5:]:
            assert torch.equal(first.step(f, stylizer.stylize), resumed.step(f, stylizer.stylize))

    def test_long_term_anchors_what_one_frame_hid(self):
        # A pole passes in front of a still scene for one frame. The frame after it cannot be anchored to
        # frame t-1 there (the pole), so per-frame strokes would flash in its place; frame t-2 can.
        bg = texture(seed=21)
        pole = bg.clone()
        pole[..., 40:52] = 0.05
        frames = [bg] * 6 + [pole] + [bg] * 2

        class EveryCallFlicker(Flicker):
            calls = 0

            def stylize(self, content):
                self.calls += 1
                noise = texture(*content.shape[-2:], cell=2, seed=1000 + self.calls) - 0.5
                return (content + 2 * self.amplitude * noise).clamp(0.0, 1.0)

        def flash(settings: TemporalSettings) -> float:
            outs = _run(frames, EveryCallFlicker(), settings, flow=ZeroFlow())
            return float((outs[7] - outs[5])[..., 40:52].abs().mean())

        short, long = flash(TemporalSettings()), flash(TemporalSettings(long_term=(2, 4)))
        assert short > 0.05  # the flash is there without the long-term terms
        assert long < 0.3 * short

    def test_compose_flow_adds_shifts(self):
        one, two = torch.zeros(1, 2, H, W), torch.zeros(1, 2, H, W)
        one[:, 0], two[:, 0] = 1.0, 2.0
        composed = compose_flow(one, two)
        inside = composed[..., : W - 2]  # the last two columns read past the edge (border repeats)
        torch.testing.assert_close(inside, torch.tensor([3.0, 0.0]).view(1, 2, 1, 1).expand_as(inside))

    def test_state_dict_empty_before_first_frame(self):
        filt = FlowTemporalFilter(DisFlow())
        assert filt.state_dict() == {}
        filt.load_state_dict({})
        frame = texture(seed=14)
        torch.testing.assert_close(filt.step(frame, Pointwise().stylize), Pointwise().stylize(frame))

    def test_reset_forgets(self):
        frame = texture(seed=15)
        filt = FlowTemporalFilter(DisFlow())
        filt.step(frame, Flicker(0.3).stylize)
        filt.reset()
        out = filt.step(frame, Pointwise().stylize)
        torch.testing.assert_close(out, Pointwise().stylize(frame), rtol=0, atol=0)

    def test_warping_error_well_below_per_frame(self):
        frames = synth_frames(16, 160, 96, seed=3)
        tensors = [to_tensor(f) for f in frames]
        stylizer = Flicker()
        per_frame = [_numpy(stylizer.stylize(t)) for t in tensors]
        temporal = [_numpy(o) for o in _run(tensors, stylizer)]
        inputs = [f.astype(np.float32) / 255.0 for f in frames]
        ratio = warp_errors(inputs, temporal).mean_output / warp_errors(inputs, per_frame).mean_output
        assert ratio < 0.3  # the bar for real clips

    def test_no_ghost_trail(self):
        # A dark square crosses a static textured background, 4 px a frame, and leaves it at frame 12.
        bg = texture(seed=16)
        frames = []
        for t in range(20):
            f = bg.clone()
            x0 = 8 + 4 * t
            if t < 12:
                f[..., 24:48, x0 : x0 + 20] = 0.1 + 0.05 * texture(24, 20, seed=17)
            frames.append(f)
        outs = _run(frames, Pointwise())
        trail = torch.zeros(H, W, dtype=torch.bool)
        trail[24:48, 8 : 8 + 4 * 11 + 20] = True
        square = (Pointwise().stylize(frames[5]) - Pointwise().stylize(bg)).abs().mean(dim=1)[0, 24:48, 28:48]
        residues = []
        for t in (12, 14, 19):  # the object is gone: the background it covered is the fresh painting
            diff = (outs[t] - Pointwise().stylize(frames[t]))[0]
            # nothing of the dark square is left (a ghost would darken the trail) ...
            assert abs(diff.mean(dim=0)[trail].mean().item()) < 0.01, t
            # ... and what differs, slightly misplaced background strokes, is small next to the square
            residues.append(diff.abs().mean(dim=0)[trail].mean().item())
            assert residues[-1] < 0.06 * square.mean().item(), t
        assert residues == sorted(residues, reverse=True)  # and fades


class TestCoarseBand:
    @pytest.mark.parametrize("coarse_weight", [TemporalSettings().coarse_weight, None])
    def test_moving_glow_leaves_no_wake(self, coarse_weight):
        """A red disc crosses a plain, slightly noisy background, 2 px a frame; the painting's glow must
        follow it, not stay behind where the background never changed."""
        background = 0.45 + 0.05 * texture(seed=23)
        yy, xx = torch.meshgrid(torch.arange(H), torch.arange(W), indexing="ij")
        frames = []
        for t in range(24):
            disc = ((yy - 36) ** 2 + (xx - (14 + 2 * t)) ** 2) < 8**2
            frames.append(torch.where(disc, torch.tensor([0.9, 0.1, 0.1]).view(1, 3, 1, 1), background))
        outs = _run(frames, Glow(), TemporalSettings(coarse_weight=coarse_weight))
        # left behind by the disc (now at x = 60) and its glow, 20 px beyond the disc's edge
        wake = (outs[-1] - Glow().stylize(frames[-1]))[0, :, 20:52, :32].abs().mean().item()
        glow = (Glow().stylize(frames[0]) - frames[0])[0, :, 20:52, 14 + 9 : 14 + 20].abs().mean().item()
        if coarse_weight is None:  # every band blended with λ = 20: what the coarse band is for
            assert wake > 0.4 * glow
        else:
            assert wake < 0.25 * glow  # measured 0.16, against 0.54 without

    def test_steady_strokes_stay_steady(self):
        """Flickering fine strokes on a pan: the coarse band leaves their warping error as low as without it."""
        frames = [to_tensor(f) for f in synth_frames(12, 160, 96, seed=3)]
        inputs = [_numpy(f) for f in frames]
        errors = {}
        for coarse in (TemporalSettings().coarse_weight, None):
            outs = [_numpy(o) for o in _run(frames, Flicker(), TemporalSettings(coarse_weight=coarse))]
            errors[coarse] = warp_errors(inputs, outs).mean_output
        assert errors[TemporalSettings().coarse_weight] < 1.15 * errors[None]


class GridAndNewStrokes:
    """Content plus two kinds of fine strokes: a pattern tied to the pixel grid, the same on every frame,
    and strokes drawn anew on every call, as a network paints a flat area that does not change."""

    name, device = "grid-and-new-strokes", torch.device("cpu")

    def __init__(self) -> None:
        self.calls = 0
        self.grid = texture(cell=2, seed=7) - 0.5

    def stylize(self, content: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        strokes = texture(*content.shape[-2:], cell=2, seed=500 + self.calls) - 0.5
        return (content + 0.2 * strokes + 0.2 * self.grid).clamp(0.0, 1.0)


def _fine_correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    """Correlation of what a 5x5 box blur removes from each: how alike their finest strokes are."""
    fine = [(x - F.avg_pool2d(x, 5, stride=1, padding=2, count_include_pad=False)).flatten() for x in (a, b)]
    return float(torch.corrcoef(torch.stack(fine))[0, 1])


@pytest.mark.parametrize("carry", [True, False])
def test_still_flat_area_keeps_its_strokes(carry):
    """A still, flat sky: the output keeps the first frame's strokes, steady. Blended instead (carry_detail
    off, what still pixels got before), the strokes that change average away and the output becomes the
    grid-bound pattern every frame shares: the fine crosshatch of a still sky."""
    sky = torch.full((1, 3, H, W), 0.5)
    painter = GridAndNewStrokes()
    outs = _run([sky] * 60, painter, TemporalSettings(carry_detail=carry), flow=ZeroFlow())
    first, last = (_fine_correlation(o, painter.grid) for o in (outs[0], outs[-1]))
    if carry:  # measured: 0.717 -> 0.722, change per frame 0.0008
        assert last < first + 0.05
        assert (outs[-1] - outs[-2]).abs().mean() < 0.0015
    else:  # measured: 0.717 -> 0.980, change per frame 0.0021
        assert last > 0.95


def test_carried_detail_equals_its_definition():
    """Computed through the differences (9 channels smoothed), the carried detail is the definition's:
    the blend with its fine band replaced by the warped past's, carry c, and the fresh frame's, 1 - c."""
    blended, fresh, anchor, content = (texture(seed=s) for s in (1, 2, 3, 4))
    content = 0.5 + 0.05 * (content - 0.5)  # flat enough for the detail to be carried
    mask = texture(seed=5)[:, :1]
    fine = [x - _smooth(x, DETAIL_SIGMA) for x in (blended, fresh, anchor, content)]
    carry = 1.0 - (1.0 - mask) / (1.0 + 20.0 * mask)
    flat = torch.exp(-FLAT_DETAIL * _smooth(fine[3].square().sum(1, keepdim=True), DETAIL_SIGMA))
    expected = blended + flat * (carry * fine[2] + (1.0 - carry) * fine[1] - fine[0])
    got = carried_detail(blended, fresh, anchor, content, mask, 20.0)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)
    assert (got - blended).abs().mean() > 0.01  # the detail really was exchanged


def _fine_std(x: torch.Tensor) -> float:
    """Standard deviation of what a Gaussian of DETAIL_SIGMA removes, away from the borders."""
    return float((x - _smooth(x, DETAIL_SIGMA))[..., 12:-12, 12:-12].std())


def _flat_sky(seed: int) -> torch.Tensor:
    return 0.5 + 0.2 * (texture(cell=2, seed=seed) - 0.5)  # fine strokes only: the sky stays "flat"


def test_carried_detail_keeps_the_contrast_of_two_mixed_stroke_sets():
    """Carried at c = 2/3 against a fresh frame with other strokes, the mix has ~0.75 of either's
    contrast; ``contrast=1`` gives it back (measured 0.74 -> 0.99 of the fresh frame's)."""
    fresh, anchor = _flat_sky(1), _flat_sky(2)
    content, mask = torch.full_like(fresh, 0.5), torch.full((1, 1, H, W), 0.5)  # c = 1 - 0.5 / 1.5
    plain, kept = (_fine_std(carried_detail(fresh, fresh, anchor, content, mask, 1.0, contrast=k)) / _fine_std(fresh)
                   for k in (0.0, 1.0))
    assert plain < 0.8
    assert kept == pytest.approx(1.0, abs=0.06)


def test_carried_detail_contrast_never_exceeds_the_fresh_frames():
    """Where the past holds stronger strokes than the fresh frame, restoring the mix's contrast would
    carry more than the network paints now, and frame after frame strokes would only grow: the gain is
    capped at the fresh frame's variance, so the mix stays as it is (uncapped: 1.26x its contrast)."""
    fresh, anchor = _flat_sky(1), 0.5 + 2.0 * (_flat_sky(2) - 0.5)
    content, mask = torch.full_like(fresh, 0.5), torch.full((1, 1, H, W), 0.5)
    plain, kept = (carried_detail(fresh, fresh, anchor, content, mask, 1.0, contrast=k) for k in (0.0, 1.0))
    assert _fine_std(plain) > 1.2 * _fine_std(fresh)  # the mix already has more than the fresh frame
    torch.testing.assert_close(kept, plain, atol=1e-6, rtol=0)


def _detail_energy(x: torch.Tensor) -> float:
    return float((x - _smooth(x, ENERGY_SIGMA)).square().mean())


def _washed(painting: torch.Tensor, keep: float) -> torch.Tensor:
    """``painting`` with ``keep`` of its detail (what ENERGY_SIGMA's Gaussian removes): a faded mix."""
    smooth = _smooth(painting, ENERGY_SIGMA)
    return smooth + keep * (painting - smooth)


class TestRestoredEnergy:
    def test_gives_back_the_fresh_frames_energy(self):
        """A frame that kept 0.8 of the fresh painting's detail gets it all back at amount 1, part of it
        at amount 0.5 (gain 1 + 0.5·(1.25 - 1)), nothing at amount 0."""
        fresh = 0.2 + 0.6 * texture(seed=40)
        faded = _washed(fresh, 0.8)
        assert _detail_energy(restored_energy(faded, fresh, 1.0)) == pytest.approx(_detail_energy(fresh), rel=0.02)
        half = restored_energy(faded, fresh, 0.5)
        assert _detail_energy(half) == pytest.approx(1.125**2 * _detail_energy(faded), rel=0.02)
        assert restored_energy(faded, fresh, 0.0) is faded

    def test_one_gain_for_the_frame_keeps_the_picture(self):
        """The frame's coarse colours stay, its detail is scaled alike everywhere: the result is the faded
        frame's detail times one number, not the fresh frame's strokes."""
        fresh, other = 0.2 + 0.6 * texture(seed=41), 0.2 + 0.6 * texture(seed=42)
        faded = _washed(other, 0.5)  # other strokes than the fresh frame's, at the fresh frame's energy / 4
        out = restored_energy(faded, fresh, 1.0)
        smooth = _smooth(faded, ENERGY_SIGMA)
        ratio = (out - smooth) / (faded - smooth)
        gain = ratio[(faded - smooth).abs() > 0.02]
        assert float(gain.std()) < 0.02  # one gain (up to where the result was clipped to 0..1)
        assert float(gain.median()) == pytest.approx(MAX_ENERGY_GAIN, abs=0.02)  # capped: 2 would be needed

    def test_never_lowers_contrast(self):
        """A frame with more detail than the fresh one is left as it is (the gain only gives back)."""
        fresh = 0.5 + 0.2 * (texture(seed=43) - 0.5)
        strong = 0.2 + 0.6 * texture(seed=44)
        torch.testing.assert_close(restored_energy(strong, fresh, 1.0), strong, atol=1e-6, rtol=0)

    def test_next_frame_follows_the_unscaled_output(self):
        """The filter shows the restored frame but keeps its own output: with energy 0 and 1 the next
        frames start from the same past, so the state (and a resumed render) does not depend on it."""
        frames = [to_tensor(f) for f in synth_frames(8, 96, 64, seed=6)]
        strokes = Flicker(0.3)
        plain = FlowTemporalFilter(DisFlow(), TemporalSettings(energy=0.0))
        shown = FlowTemporalFilter(DisFlow(), TemporalSettings(energy=1.0))
        for frame in frames:
            a, b = plain.step(frame, strokes.stylize), shown.step(frame, strokes.stylize)
            torch.testing.assert_close(plain.state_dict()["prev_output"], shown.state_dict()["prev_output"],
                                       rtol=0, atol=0)
            torch.testing.assert_close(b, restored_energy(a, strokes.stylize(frame), 1.0), rtol=0, atol=1e-6)
        assert _detail_energy(b) > 1.08 * _detail_energy(a)  # and it did give contrast back (measured 1.10)


def _on_threads(threads: int, work):
    """``work()`` with torch on ``threads`` threads (restored after)."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return work()
    finally:
        torch.set_num_threads(before)


def test_restored_energy_has_the_same_bits_on_any_thread_count():
    """Painting ahead runs the temporal step on one thread, a plain render on all: one frame's gain must
    not depend on how torch split its sums (a split sum flipped output pixels on a CI machine)."""
    for seed in range(8):
        fresh = 0.2 + 0.6 * texture(200, 360, seed=50 + seed)
        faded = _washed(0.2 + 0.6 * texture(200, 360, seed=70 + seed), 0.8)
        one, two, three = (_on_threads(n, lambda: restored_energy(faded.clone(), fresh, 1.0)) for n in (1, 2, 3))
        assert torch.equal(one, two) and torch.equal(one, three)


def test_the_temporal_step_has_the_same_bits_on_any_thread_count():
    """The whole step (masks, blends, carried detail, gain) on 1 and 3 of torch's threads: the same frames."""
    frames = [to_tensor(f) for f in synth_frames(8, 360, 200, seed=1)]
    outputs = []
    for threads in (1, 3):
        filter_ = FlowTemporalFilter(DisFlow(), TemporalSettings())
        outputs.append([_on_threads(threads, lambda: filter_.step(f, Flicker(0.3).stylize)) for f in frames])
    assert all(torch.equal(a, b) for a, b in zip(*outputs))


def test_flow_estimated_beside_the_network_gives_the_same_frames():
    """The flow runs in its own thread while the network paints: the frames equal one-after-the-other's."""
    frames = [to_tensor(f) for f in synth_frames(6, 96, 64, seed=5)]
    together = FlowTemporalFilter(DisFlow())
    alone = FlowTemporalFilter(DisFlow(), overlap_flow=False)
    for frame in frames:
        torch.testing.assert_close(together.step(frame, Flicker().stylize), alone.step(frame, Flicker().stylize),
                                   rtol=0, atol=0)


def _frame_by_definition(fresh, prev_output, content, previous, flow, s: TemporalSettings) -> torch.Tensor:
    """The temporal step written out one stage at a time, each from its definition (full-size
    temporaries, a warp per image, the public pieces): what the one-pass step must reproduce."""
    moved = (content - backward_warp(previous, flow)).square().sum(1, keepdim=True)
    still = (content - previous).square().sum(1, keepdim=True)
    moving = _smooth(still - moved, STILLNESS_SIGMA) > s.stillness_margin
    kept = flow * moving.float()
    tears = motion_boundaries(kept, relative=DIS_TEAR_RELATIVE, absolute=DIS_TEAR_ABSOLUTE).float()
    near = (_smooth(tears, BOUNDARY_BAND_SIGMA) > 0.05).float()
    mask = torch.exp(-s.photometric * torch.where(moving, moved, still))
    mask = mask * (1.0 - (1.0 - s.boundary_weight) * near) * flow_in_frame(kept)
    anchor = torch.where(moving, backward_warp(prev_output, flow, mode="bicubic"), prev_output)
    contrast = s.still_contrast + (s.contrast - s.still_contrast) * moving.float()
    out = blend(fresh, anchor, mask, s.weight, contrast=contrast)
    out = out + _smooth(blend(fresh, anchor, mask, s.coarse_weight) - out, COARSE_SIGMA)
    zoom = zoom_share(flow, s.zoom_fresh) * moving
    return carried_detail(out, fresh, anchor, content, mask, s.weight, zoom, s.detail_contrast).clamp(0.0, 1.0)


def test_one_pass_step_equals_the_definition():
    """The step shares one sampling grid, reuses anchor - fresh and the blend's shares and works in
    place: on moving shapes with DIS flow (moving and still pixels, boundaries, pixels whose flow leaves
    the frame) it gives the stage-by-stage definition's frames."""
    frames = [to_tensor(f) for f in synth_frames(4, 96, 64, seed=3)]
    settings = TemporalSettings(weight=3.0)  # a low λ: every share of the blend and the carry matters
    prev_output = Flicker().stylize(frames[0])
    checked = 0
    for previous, content in zip(frames, frames[1:]):
        flow = DisFlow()(content, previous)
        flow[..., :3, :] = -5.0  # some pixels read from beyond the frame's edge
        fresh = Flicker().stylize(content)
        expected = _frame_by_definition(fresh, prev_output, content, previous, flow, settings)
        got, _ = consistent_frame(fresh.clone(), prev_output.clone(), content, previous, flow, settings)
        torch.testing.assert_close(got, expected, atol=2e-6, rtol=0)
        assert (got - fresh).abs().mean() > 0.01  # the past really was blended in
        prev_output, checked = got, checked + 1
    assert checked == 3


def _zoom_flow(scale: float, h: int = H, w: int = W) -> torch.Tensor:
    """The flow frame t -> t-1 of a zoom into the frame's centre by ``scale`` a frame, (1, 2, h, w)."""
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32),
                            indexing="ij")
    return torch.stack([xs - (w - 1) / 2, ys - (h - 1) / 2]).unsqueeze(0) * (1.0 / scale - 1.0)


@pytest.mark.parametrize(("flow", "share"), [
    (_zoom_flow(1.015), 1.0),  # zoom in 1.5% a frame: 3% more area, the fresh strokes' threshold
    (_zoom_flow(1.01), 0.5),
    (_zoom_flow(1.02), 1.0),
    (_zoom_flow(1.003), 0.0),  # 0.6% more area: below ZOOM_START, DIS noise on a still scene looks so
    (_zoom_flow(0.985), 0.0),  # zoom out: frame t-1 shrinks, nothing is magnified
    (torch.tensor([3.0, -2.0]).view(1, 2, 1, 1).expand(1, 2, H, W), 0.0),  # a pan
    (torch.zeros(1, 2, H, W), 0.0),
    (_zoom_flow(1.03) * (texture(seed=1)[:, :1] > 0.8), 0.0),  # patches of a still frame expand
])
def test_zoom_share_finds_camera_zooms(flow, share):
    assert zoom_share(flow, 0.03).shape == (1, 1, 1, 1)
    assert zoom_share(flow, 0.03).item() == pytest.approx(share, abs=0.02)


def test_zoom_share_of_a_frame_one_quarter_pixel_high():
    # 4 px high: one row at quarter size, no vertical slope to fit (it was 0/0, a NaN that reached the
    # frame); the horizontal stretch alone counts: 1.5% -> 0.25 of the way from ZOOM_START to 0.03
    share = zoom_share(_zoom_flow(1.015, 4, 64), 0.03)
    assert torch.isfinite(share).all() and share.item() == pytest.approx(0.25, abs=0.05)
    assert zoom_share(torch.zeros(1, 2, 4, 64), 0.03).item() == 0.0


class ZoomFlow:
    """The exact flow of a zoom by ``scale`` a frame."""

    name = "zoom"

    def __init__(self, scale: float) -> None:
        self.scale = scale

    def __call__(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return _zoom_flow(self.scale, *source.shape[-2:])


@pytest.mark.parametrize("zoom_fresh", [0.03, None])
def test_zoom_paints_fresh_strokes(zoom_fresh):
    """A zoom into a texture: the network's strokes stay their size on screen, so a filter that carries
    the past's fine strokes magnifies them frame after frame (a blurred grid, radial smears). With
    ``zoom_fresh`` the output's finest strokes are the fresh frame's (measured: correlation 0.93-0.96
    over the last frames, against 0.19-0.23 without)."""
    content = [0.5 + 0.4 * (texture(cell=4, seed=3) - 0.5)]
    for _ in range(14):
        content.append(backward_warp(content[-1], _zoom_flow(1.02)))
    painter = GridAndNewStrokes()
    fresh = []

    def paint(frame: torch.Tensor) -> torch.Tensor:
        fresh.append(painter.stylize(frame))
        return fresh[-1]

    filt = FlowTemporalFilter(ZoomFlow(1.02), TemporalSettings(zoom_fresh=zoom_fresh))
    outs = [filt.step(frame, paint) for frame in content]
    alike = _fine_correlation(outs[-1][..., 16:-16, 16:-16], fresh[-1][..., 16:-16, 16:-16])
    if zoom_fresh is not None:
        assert alike > 0.85
    else:
        assert alike < 0.5


@pytest.mark.parametrize("shape", [(1, 3, 72, 96), (1, 2, 36, 50), (2, 1, 35, 49)])
def test_opencv_smoothing_equals_torchs(shape):
    """Float32 CPU tensors are halved, quartered, blurred and expanded by OpenCV; float64 ones take
    torch's kernels (the definitions): the same values. Sizes not divisible by 2 or 4 fall back."""
    x = torch.rand(shape, generator=torch.Generator().manual_seed(1))
    for fn in (_halved, _quartered, lambda t: _blur(t, 5.0), lambda t: _expanded(t, torch.Size((80, 130))),
               lambda t: _smooth(t, 8.0)):
        fast, reference = fn(x), fn(x.double())
        assert fast.dtype == torch.float32 and fast.shape == reference.shape
        torch.testing.assert_close(fast, reference.float(), atol=1e-6, rtol=0)
