"""Style crossfades, shots and the per-frame ControlTrack on generated timelines and clips."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from vidstyle.errors import StyleNotFoundError, UserInputError
from vidstyle.io.reader import open_source
from vidstyle.schedule.keys import name_keys
from vidstyle.schedule.shots import detect_cuts, shot_of_frame
from vidstyle.schedule.styles import StyleBank, family_of, preset_tensor_at, scheduled_styles, styles_per_shot
from vidstyle.schedule.timeline import Timeline, probe_timeline
from vidstyle.schedule.spec import ControlSpec
from vidstyle.schedule.track import build_track
from vidstyle.stylize.nets import CIN26_STYLE_NAMES, CIN_PARAM_DIM
from vidstyle.stylize.styles import mix_params

FPS = 24.0


def timeline(frames: int = 120, path: Path = Path("none.mp4")) -> Timeline:
    return Timeline(path, np.arange(frames) / FPS, 0.0, FPS, has_audio=False)


class TestStyleCrossfade:
    def test_vector_moves_monotonically_from_a_to_b(self):
        a, b = torch.randn(1, 100, generator=torch.Generator().manual_seed(1)), torch.zeros(1, 100)
        bank = StyleBank(("a", "b"), lambda name, scale: {"a": a, "b": b}[name])
        for interp in ("linear", "cubic"):
            plan = scheduled_styles(name_keys("12:(a), 3s:(b)", "--style"), timeline().times, FPS, None, interp)
            vectors = torch.cat([bank.mix(plan.at(i)) for i in range(120)])
            to_a = (vectors - a).norm(dim=1).numpy()
            along = ((vectors - a) @ (b - a).T).squeeze(1).numpy() / float((b - a).norm() ** 2)
            assert torch.equal(vectors[0:1], a) and torch.allclose(vectors[-1:], b)
            assert np.all(np.diff(to_a) >= -1e-6) and np.all(np.diff(along) >= -1e-9)
            assert along[12] == 0 and along[72] == pytest.approx(1.0) and 0 < along[40] < 1

    def test_real_presets_magenta_and_cin(self):
        magenta = StyleBank(("san_giorgio_maggiore",), preset_tensor_at(lambda image, scale: None))
        assert magenta.mix({"san_giorgio_maggiore": 1.0}).shape == (1, 100)
        bank = StyleBank(("starry_night", "the_wave"), preset_tensor_at(lambda image, scale: None))
        half = bank.mix({"starry_night": 0.5, "the_wave": 0.5})
        assert half.shape == (1, CIN_PARAM_DIM)  # learned presets: the network's norm parameters
        torch.testing.assert_close(half, 0.5 * (bank.tensors["starry_night"] + bank.tensors["the_wave"]))
        a, b = CIN26_STYLE_NAMES[:2]
        cin = StyleBank((a, b), preset_tensor_at(lambda image, scale: None)).mix({a: 0.25, b: 0.75})
        weights = torch.zeros(1, 26)
        weights[0, :2] = torch.tensor([0.25, 0.75])
        torch.testing.assert_close(cin, mix_params(weights[0]).unsqueeze(0))

    def test_scaled_vectors_interpolate_between_scales(self):
        bank = StyleBank(("a",), lambda name, scale: torch.full((1, 4), scale), scales=(1.0, 2.0))
        torch.testing.assert_close(bank.mix({"a": 1.0}, 1.25), torch.full((1, 4), 1.25))
        torch.testing.assert_close(bank.mix({"a": 1.0}, 3.0), torch.full((1, 4), 2.0))

    def test_families_must_match(self):
        assert family_of(["starry_night", "the_wave"], "--style") == "cin26"  # learned presets
        assert family_of(["starry_night", CIN26_STYLE_NAMES[0]], "--style") == "cin26"
        with pytest.raises(UserInputError, match="--style mixes style families"):
            family_of(["san_giorgio_maggiore", CIN26_STYLE_NAMES[0]], "--style")
        with pytest.raises(StyleNotFoundError, match="unknown style 'stary_night'.*starry_night"):
            family_of(["stary_night"], "--style")


def frames_with_cuts() -> list[np.ndarray]:
    """30 frames, 64x48: a moving warm gradient, a cut to a cool noisy shot, a cut back to warm."""
    rng = np.random.default_rng(0)
    x = np.linspace(0, 1, 64)[None, :, None]
    frames = []
    for t in range(30):
        if 10 <= t < 20:
            image = np.clip(rng.normal([40, 80, 200], 20, (48, 64, 3)), 0, 255)
        else:
            image = np.broadcast_to((1 - x) * [230, 120, 40] + x * [250, 200, 90] + t, (48, 64, 3))
        frames.append(image.astype(np.uint8))
    return frames


class TestShots:
    def test_detects_the_cuts(self):
        cuts = detect_cuts(frames_with_cuts())
        assert cuts == [10, 20]
        np.testing.assert_array_equal(shot_of_frame(cuts, 30), [0] * 10 + [1] * 10 + [2] * 10)

    @pytest.mark.slow
    @pytest.mark.parametrize("name, cuts", [("cutBunny.mp4", [235]), ("fox.mp4", [])])
    def test_real_clips(self, shared_path, name, cuts):
        assert detect_cuts(probe_timeline(shared_path(f"videos/{name}")).images()) == cuts

    def test_styles_cycle_over_shots(self):
        plan = styles_per_shot(["a", "b"], shot_of_frame([10, 20], 30))
        assert plan.names == ("a", "b")
        assert plan.at(0) == {"a": 1.0} and plan.at(10) == {"b": 1.0} and plan.at(25) == {"a": 1.0}


class TestControlTrack:
    def test_values_at_frames(self):
        spec = ControlSpec(strength="0:(1.0), 2s:(0.2)", style_scale="1.5",
                           style="0:(starry_night), 4s:(the_wave)", interp="linear")
        track = build_track(spec, timeline())
        v = track.values_at(24)
        assert v.strength == pytest.approx(0.6) and v.style_scale == 1.5 and v.temporal_weight is None
        assert v.style_weights == pytest.approx({"starry_night": 0.75, "the_wave": 0.25})
        assert track.values_at(119).strength == pytest.approx(0.2)
        assert set(track.curves) == {"strength", "style-scale", "style:starry_night", "style:the_wave"}
        with pytest.raises(UserInputError, match="outside the clip"):
            track.values_at(120)

    def test_cubic_overshoot_is_clipped_to_the_range(self):
        track = build_track(ControlSpec(strength="0:(0), 10:(1), 20:(1), 30:(0)", interp="cubic"), timeline())
        assert track.curves["strength"].max() <= 1.0 and track.curves["strength"].min() >= 0.0

    def test_fingerprint_changes_with_the_schedule(self):
        a = build_track(ControlSpec(strength="0:(1), 48:(0.3)"), timeline()).fingerprint()
        b = build_track(ControlSpec(strength="0:(1), 48:(0.4)"), timeline()).fingerprint()
        assert a["schedules"] == {"strength": "0:(1), 48:(0.3)"} and a != b
        assert a == build_track(ControlSpec(strength="0:(1), 48:(0.3)"), timeline()).fingerprint()

    def test_style_scale_grid(self):
        assert build_track(ControlSpec(), timeline()).style_scale_grid() == (1.0,)
        track = build_track(ControlSpec(style_scale="0:(1), 1s:(2), 2s:(0.5)"), timeline())
        assert track.style_scale_grid() == (0.5, 1.0, 2.0)

    def test_bpm_keys(self):
        track = build_track(ControlSpec(strength="0:(0), 4b:(1)", bpm=120.0), timeline())
        assert track.curves["strength"][48] == 1.0 and track.curves["strength"][24] == pytest.approx(0.5)

    @pytest.mark.parametrize("kwargs, message", [
        ({"strength": "0:(1.5)"}, "--strength must be between 0 and 1"),
        ({"style_scale": "0:(0)"}, "--style-scale must be positive"),
        ({"temporal_weight": "nan"}, "--temporal-weight must be non-negative, got nan"),
        ({"style": "a", "style_per_shot": "a,b"}, "not both"),
        ({"style": "starry_night", "audio_react": ("blend:rms",)}, "needs --style A,B"),
        ({"interp": "smooth"}, "--interp"),
    ])
    def test_spec_errors(self, kwargs, message):
        with pytest.raises(UserInputError, match=message):
            ControlSpec(**kwargs)

    def test_react_needs_audio(self):
        with pytest.raises(UserInputError, match="has no audio"):
            build_track(ControlSpec(audio_react=("strength:rms",)), timeline())

    def test_static_spec(self):
        assert ControlSpec(strength="0.5", temporal_weight="10").is_static
        assert not ControlSpec(strength="0:(0.5)").is_static
        assert not ControlSpec(audio_react=("strength:rms",)).is_static


def test_probe_timeline_reads_vfr_pts(tmp_path):
    path = tmp_path / "vfr.mkv"
    pts_ms = [0, 40, 100, 120, 300, 340]
    with av.open(str(path), "w") as c:
        stream = c.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for p in pts_ms:
            frame = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
            frame.pts, frame.time_base = p, Fraction(1, 1000)
            for packet in stream.encode(frame):
                c.mux(packet)
        for packet in stream.encode(None):
            c.mux(packet)
    tl = probe_timeline(path)
    np.testing.assert_allclose(tl.times, np.array(pts_ms) / 1000.0)
    source = open_source(path)  # the render's own frame times
    np.testing.assert_allclose(tl.times, [f.pts * float(source.info.time_base) for f in source.frames()])
    assert probe_timeline(path, start=0.1, max_frames=2).origin == pytest.approx(0.1)
    np.testing.assert_allclose(probe_timeline(path, start=0.1, max_frames=2).times, [0.0, 0.02])
