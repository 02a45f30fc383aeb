"""Shaping a feature into a control: no lag, attack before, release after, threshold, ranges, parsing."""

from __future__ import annotations

import numpy as np
import pytest

from vidstyle.audio.react import react_values, shape
from vidstyle.audio.spec import Envelope, React, parse_reacts
from vidstyle.errors import UserInputError

TIMES = np.arange(200) / 25.0


def impulse(at: int = 100, height: float = 1.0) -> np.ndarray:
    x = np.zeros(len(TIMES))
    x[at] = height
    return x


class TestShape:
    @pytest.mark.parametrize("env", [Envelope(attack=0.1, release=0.4), Envelope(release=0.0, smooth=0.2),
                                     Envelope(attack=0.2, release=0.2, smooth=0.1)])
    def test_peak_stays_on_its_frame(self, env):
        y = shape(impulse(), TIMES, env)
        assert int(np.argmax(y)) == 100

    def test_smoothing_is_zero_phase(self):
        """A causal one-pole smoother (tau 0.2 s) would move the impulse's centroid 5 frames late."""
        y = shape(impulse(), TIMES, Envelope(release=0.0, smooth=0.2))
        assert np.sum(y * np.arange(len(y))) / np.sum(y) == pytest.approx(100.0, abs=0.5)

    def test_release_decays_after_attack_rises_before(self):
        y = shape(impulse(), TIMES, Envelope(attack=0.08, release=0.4))
        assert y[100] == 1.0
        assert np.all(np.diff(y[100:130]) < 0) and np.all(np.diff(y[80:101]) > 0)
        assert y[110] == pytest.approx(np.exp(-0.4 / 0.4))  # 10 frames = 0.4 s after: one time constant
        assert y[98] == pytest.approx(np.exp(-0.08 / 0.08))

    def test_no_attack_means_no_rise_before(self):
        y = shape(impulse(), TIMES, Envelope(attack=0.0, release=0.3))
        assert np.all(y[:100] == 0.0)

    def test_threshold_and_gain(self):
        x = impulse(50, 0.3) + impulse(150, 0.9)
        y = shape(x, TIMES, Envelope(threshold=0.5, release=0.0), gain=1.0)
        assert y[50] == 0.0 and y[150] == pytest.approx(0.8)
        assert shape(x, TIMES, Envelope(release=0.0), gain=2.0)[150] == 1.0  # gain clips at 1

    def test_uses_real_time_steps(self):
        """VFR: the same 0.4 s release spans more frames where frames are closer together."""
        times = np.concatenate([np.arange(100) / 50.0, 2.0 + np.arange(100) / 25.0])
        x = np.zeros(200)
        x[20] = x[120] = 1.0
        y = shape(x, times, Envelope(release=0.4))
        assert y[40] == pytest.approx(y[130])  # both 0.4 s after their hit

    def test_range_maps_silence_and_peak(self):
        react = React("temporal-weight", "onset", 1.0, 20.0, 2.0)
        v = react_values(react, impulse(), TIMES, Envelope(release=0.0))
        assert v[100] == 2.0 and v[0] == 20.0


class TestParse:
    def test_defaults_and_pairs(self):
        a, b = parse_reacts(["strength:rms", "temporal-weight:beat:2"])
        assert (a.lo, a.hi, a.gain) == (0.0, 1.0, 1.0) and (b.lo, b.hi, b.gain) == (20.0, 2.0, 2.0)
        a, b = parse_reacts(["strength:rms", "style-scale:low"], ["0.2,0.9", "1,1.5"])
        assert (a.lo, a.hi, b.lo, b.hi) == (0.2, 0.9, 1.0, 1.5)
        (a,) = parse_reacts(["strength:onset"], ["0.5,1"])
        assert (a.lo, a.hi) == (0.5, 1.0)

    @pytest.mark.parametrize("specs, ranges, message", [
        (["strength"], [], "TARGET:FEATURE"),
        (["brightness:rms"], [], "target must be one of"),
        (["strength:bass"], [], "feature must be one of"),
        (["strength:rms:x"], [], "bad gain"),
        (["strength:rms:-1"], [], "gain must be positive"),
        (["strength:rms", "strength:beat"], [], "once"),
        (["strength:rms"], ["0.5"], "LO,HI"),
        (["strength:rms", "blend:beat"], ["0,1", "0,1", "0,1"], "one each"),
    ])
    def test_errors(self, specs, ranges, message):
        with pytest.raises(UserInputError, match=message):
            parse_reacts(specs, ranges)

    def test_envelope_checks(self):
        with pytest.raises(UserInputError, match="--react-threshold"):
            Envelope(threshold=1.0)
        with pytest.raises(UserInputError, match="--react-release"):
            Envelope(release=-1)
