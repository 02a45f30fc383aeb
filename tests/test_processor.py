"""FrameProcessor: strength, per-frame controls, style per call, the temporal filter on and off, and its
state round trip, on small generated frames."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from vidstyle.errors import UserInputError
from vidstyle.flow.opencv import DisFlow
from vidstyle.io.convert import to_tensor, to_uint8
from vidstyle.job import paint_ahead
from vidstyle.processor import FrameControls, FrameProcessor
from vidstyle.stylize.feedforward import MagentaStylizer
from vidstyle.stylize.styles import all_presets
from vidstyle.synth import synth_frames
from vidstyle.temporal.consistency import FlowTemporalFilter

W, H = 96, 64


class Grain:
    """Content plus grain that changes with every frame (seeded by the frame), scaled by ``style``
    ((1, 1) amplitude; None: 0.2): a stylizer that flickers, so the temporal filter has work to do."""

    name, device = "grain", torch.device("cpu")

    def stylize(self, content: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        amplitude = 0.2 if style is None else float(style)
        g = torch.Generator().manual_seed(int(content.double().sum().item() * 1000) % 2**31)
        return (content + amplitude * (torch.rand(content.shape, generator=g) - 0.5)).clamp(0.0, 1.0)


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    return synth_frames(6, W, H, seed=5)


def _temporal(**kwargs) -> FrameProcessor:
    return FrameProcessor(Grain(), FlowTemporalFilter(DisFlow()), max_side=None, **kwargs)


def _per_frame(images: list[np.ndarray], style: torch.Tensor | None = None) -> list[np.ndarray]:
    return [to_uint8(Grain().stylize(to_tensor(i), style)) for i in images]


class TestStrength:
    def test_zero_returns_the_input_bit_exact(self, frames):
        processor = _temporal(strength=0.0)
        assert all(np.array_equal(processor.process(f), f) for f in frames)
        assert processor.state_dict() == {}  # nothing was painted

    def test_zero_per_call_then_back(self, frames):
        processor = FrameProcessor(Grain(), None, max_side=None)
        assert np.array_equal(processor.process(frames[0], FrameControls(strength=0.0)), frames[0])
        assert np.array_equal(processor.process(frames[0]), _per_frame(frames[:1])[0])  # only that call

    def test_half_is_the_blend(self, frames):
        processor = FrameProcessor(Grain(), None, max_side=None)
        half = processor.process(frames[0], FrameControls(strength=0.5))
        expected = to_uint8(torch.lerp(to_tensor(frames[0]), Grain().stylize(to_tensor(frames[0])), 0.5))
        assert np.array_equal(half, expected)

    def test_range_checked(self, frames):
        processor = FrameProcessor(Grain(), None, max_side=None)
        with pytest.raises(UserInputError, match="strength"):
            processor.process(frames[0], FrameControls(strength=1.5))
        with pytest.raises(UserInputError, match="--strength"):
            processor.set_strength(-0.1)


class TestStyle:
    def test_style_per_call_is_the_stylizer_with_that_style(self, frames):
        presets = all_presets()
        night, wave = (torch.tensor(presets[n].vector).view(1, -1) for n in ("starry_night", "the_wave"))
        processor = FrameProcessor(MagentaStylizer(night), None, max_side=64)
        other = FrameProcessor(MagentaStylizer(wave), None, max_side=64)
        default = processor.process(frames[0])
        per_call = processor.process(frames[0], FrameControls(time=0.5, style=wave))
        assert np.abs(per_call.astype(int) - default).mean() > 5  # another painting
        assert np.array_equal(per_call, other.process(frames[0]))
        # A crossfade lerps the vectors; its ends are the two styles exactly.
        assert np.array_equal(processor.process(frames[0], FrameControls(style=torch.lerp(night, wave, 1.0))),
                              per_call)
        processor.set_style(wave)  # from now on, without controls
        assert np.array_equal(processor.process(frames[0]), per_call)

    def test_style_reaches_the_stylizer_through_the_temporal_filter(self, frames):
        processor = _temporal()
        still = processor.process(frames[0], FrameControls(style=torch.zeros(1, 1)))
        assert np.array_equal(still, frames[0])  # amplitude 0: the grain-free frame


class TestTemporal:
    def test_on_steadies_off_is_per_frame(self, frames):
        processor = _temporal()
        steady = [processor.process(f) for f in frames[:3]]
        fresh = _per_frame(frames[:3])
        assert np.array_equal(steady[0], fresh[0])  # the first frame has no history
        assert np.abs(steady[2].astype(int) - fresh[2]).mean() > 1  # the filter changed the later ones
        assert processor.set_temporal(False) and not processor.temporal_enabled
        assert np.array_equal(processor.process(frames[3]), _per_frame(frames[3:4])[0])
        processor.set_temporal(True)  # history restarts: frame 4 is painted fresh
        assert np.array_equal(processor.process(frames[4]), _per_frame(frames[4:5])[0])

    def test_weight_zero_per_call_is_per_frame(self, frames):
        processor = _temporal()
        processor.process(frames[0])
        assert np.array_equal(processor.process(frames[1], FrameControls(temporal_weight=0.0)),
                              _per_frame(frames[1:2])[0])

    def test_without_filter_cannot_be_turned_on(self, frames):
        processor = FrameProcessor(Grain(), None, max_side=None)
        assert not processor.set_temporal(True) and not processor.temporal_enabled

    def test_state_round_trip_continues_bit_exact(self, frames):
        whole = _temporal()
        expected = [whole.process(f) for f in frames]
        first = _temporal()
        for f in frames[:3]:
            first.process(f)
        state = {k: v.clone() for k, v in first.state_dict().items()}
        assert set(state) >= {"prev_content", "prev_output"}
        second = _temporal()
        second.load_state_dict(state)
        assert all(np.array_equal(second.process(f), e) for f, e in zip(frames[3:], expected[3:]))

    def test_new_size_restarts_history(self, frames):
        processor = _temporal()
        processor.process(frames[0])
        processor.set_max_side(48)
        assert processor.max_side == 48 and processor.state_dict() == {}
        assert processor.processing_size(W, H) == (48, 32) and processor.process(frames[1]).shape == (H, W, 3)


class TestPaintAhead:
    def test_frames_begun_ahead_are_painted_in_the_painter_thread_and_match(self, frames):
        """Frame t+1 begun before frame t completes, as a render does: the same frames as one after
        the other, every painting done in the painter thread."""
        threads: list[str] = []

        class Recording(Grain):
            def stylize(self, content, style=None):
                threads.append(threading.current_thread().name)
                return super().stylize(content, style)

        sequential = _temporal()
        expected = [sequential.process(f) for f in frames]
        processor = FrameProcessor(Recording(), FlowTemporalFilter(DisFlow()), max_side=None)
        processor.paint_ahead(1)
        begun = [processor.begin(frames[0])]
        out = []
        for f in frames[1:]:
            begun.append(processor.begin(f))
            out.append(processor.complete(begun.pop(0)))
        out.append(processor.complete(begun.pop(0)))
        assert all(np.array_equal(a, b) for a, b in zip(out, expected))
        assert len(threads) == len(frames) and all(t.startswith("vidstyle-paint") for t in threads)

    def test_errors_of_the_painter_thread_reach_the_caller(self, frames):
        class Broken(Grain):
            def stylize(self, content, style=None):
                raise RuntimeError("the network failed")

        processor = FrameProcessor(Broken(), FlowTemporalFilter(DisFlow()), max_side=None)
        processor.paint_ahead(1)
        started = processor.begin(frames[0])
        with pytest.raises(RuntimeError, match="the network failed"):
            processor.complete(started)

    @pytest.mark.parametrize("device, method, temporal, threads, ahead", [
        ("cpu", "feedforward", True, 2, True), ("cpu", "feedforward", True, 1, False),
        ("cpu", "feedforward", False, 2, False), ("cpu", "optimize", True, 2, False),
        ("cuda", "feedforward", True, 2, False)])
    def test_a_render_paints_ahead_on_a_cpu_with_threads_to_share(self, monkeypatch, device, method, temporal,
                                                                   threads, ahead):
        """Only a feed-forward temporal render on a CPU with two threads or more, each stage on half of
        torch's threads."""
        monkeypatch.setattr(torch, "get_num_threads", lambda: threads)
        processor = _temporal()
        assert paint_ahead(processor, torch.device(device), method, temporal) == ahead
        assert (processor._painter is not None) == ahead
        assert processor._stage_threads == (threads // 2 if ahead else 0)  # each stage's share
        assert (processor._painter is not None) == ahead and processor._stage_threads == (threads // 2 if ahead else 0)
