"""The render's per-frame plan: which network a schedule builds, plain numbers, and the written frame."""

from __future__ import annotations

import numpy as np

from vidstyle.compositing import MatteCompositor
from vidstyle.pipeline.stages import FrameMessage
from vidstyle.schedule.controls import RenderPlan
from vidstyle.schedule.spec import ControlSpec


class TestControlSpec:
    def test_network_style_and_static_numbers(self):
        spec = ControlSpec(style="0:(starry_night), 2s:(the_wave)", strength="0.5", style_scale="0:(1), 8:(2)")
        assert spec.network_style() == "starry_night" and spec.style_moves()
        assert spec.static_number("strength") == 0.5 and spec.static_number("style-scale") is None
        assert spec.static_number("temporal-weight") is None
        per_shot = ControlSpec(style_per_shot="the_wave,udnie")
        assert per_shot.network_style() == "the_wave" and per_shot.style_moves()
        plain = ControlSpec(style="a:0.5,b:0.5", strength="0:(1), 4:(0)")
        assert plain.network_style() == "a:0.5,b:0.5" and not plain.style_moves() and not plain.is_static


class TestRenderPlan:
    def message(self, image: np.ndarray) -> FrameMessage:
        return FrameMessage(index=0, pts=0, time=0.0, image=image)

    def test_eight_bit_frames_pass_untouched(self):
        painted = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
        assert RenderPlan().finish(self.message(painted), painted) is painted

    def test_matte_into_a_video_gives_the_input_bytes_outside(self):
        decoded = np.random.default_rng(0).integers(0, 256, (4, 6, 3), dtype=np.uint8)
        matte = np.zeros((4, 6), np.float32)
        matte[:, 3:] = 1.0
        compositor = MatteCompositor(lambda i, inp: matte, lambda i, d: d.astype(np.float32) / np.float32(255.0))
        plan = RenderPlan(matte=compositor)
        assert plan.as_float
        out = plan.finish(self.message(decoded), np.ones((4, 6, 3), np.float32))
        assert out.dtype == np.uint8
        assert np.array_equal(out[:, :3], decoded[:, :3]) and np.all(out[:, 3:] == 255)
