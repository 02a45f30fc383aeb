"""Deforum schedules: parsing, key units, interpolation as Deforum computes it, and errors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.interpolate import interp1d

from vidstyle.errors import UserInputError
from vidstyle.schedule.interp import ease_weights, interpolate
from vidstyle.schedule.keys import Key, is_schedule, key_times, name_keys, number_keys, parse_keys

FPS = 24.0
TIMES = np.arange(120) / FPS


def deforum_linear(keys: dict[int, float], frames: int) -> np.ndarray:
    """Deforum's get_inbetweens for 'Linear': NaN series, keys set, frame 0 and the last frame take the
    first and last key's value, then pandas' linear interpolation over the frame index."""
    series = np.full(frames, np.nan)
    for k, v in keys.items():
        series[k] = v
    known = np.flatnonzero(~np.isnan(series))
    series[0], series[-1] = series[known[0]], series[known[-1]]
    known = np.flatnonzero(~np.isnan(series))
    return np.interp(np.arange(frames), known, series[known])


def values(spec: str, interp: str = "linear", bpm: float | None = None) -> np.ndarray:
    keys = number_keys(spec, "--strength")
    return interpolate(key_times(keys, TIMES, FPS, bpm, "--strength"), [float(k.value) for k in keys], TIMES,
                       interp)


class TestParse:
    def test_units(self):
        keys = parse_keys("0:(1.0), 2.5s:( 0.3 ),8b:(0.5)", "--strength")
        assert keys == (Key(0, "f", "1.0"), Key(2.5, "s", "0.3"), Key(8, "b", "0.5"))
        np.testing.assert_allclose(key_times(keys, TIMES, FPS, 120.0, "--strength"), [0.0, 2.5, 4.0])

    def test_plain_number_is_one_key(self):
        assert not is_schedule("0.7") and number_keys("0.7", "--strength") == (Key(0, "f", "0.7"),)
        np.testing.assert_array_equal(values("0.7"), np.full(120, 0.7))

    def test_frame_keys_use_frame_times(self):
        vfr = np.array([0.0, 0.1, 0.15, 0.4])
        assert key_times(parse_keys("3:(1)", "--strength"), vfr, 24.0, None, "--strength")[0] == 0.4
        assert key_times(parse_keys("5:(1)", "--strength"), vfr, 10.0, None, "--strength")[0] == pytest.approx(0.6)

    @pytest.mark.parametrize("spec, message", [
        ("0:(1.0), 48:0.3", "bad schedule for --strength at ' 48:0.3'"),
        ("0:(1.0) 48:(0.3)", "bad schedule"),
        ("0:()", "empty value"),
        ("1.5:(0.3)", "frame keys are whole numbers"),
        ("0:(1), 0:(0.5)", "two keys at the same time"),
        ("0:(1), 1s:(0.5), 24:(0.2)", "two keys at the same time"),
        ("0:(abc)", "takes a number or a schedule"),
        ("high", "takes a number or a schedule"),
    ])
    def test_errors(self, spec, message):
        with pytest.raises(UserInputError, match=message.replace("(", r"\(")):
            values(spec)

    def test_beats_need_a_tempo(self):
        with pytest.raises(UserInputError, match="no tempo is known"):
            values("0:(1), 8b:(0)")

    def test_style_names(self):
        assert [k.value for k in name_keys("0:(starry_night), 10s:(the_wave)", "--style")] == \
            ["starry_night", "the_wave"]
        with pytest.raises(UserInputError, match="preset names"):
            name_keys("0:(Starry Night)", "--style")


class TestInterpolate:
    def test_linear_matches_deforum(self):
        np.testing.assert_allclose(values("10:(1.0), 48:(0.3), 90:(0.8)"),
                                   deforum_linear({10: 1.0, 48: 0.3, 90: 0.8}, 120), atol=1e-12)

    def test_seconds_keys_match_frame_keys(self):
        np.testing.assert_allclose(values("0:(1.0), 2s:(0.3)"), values("0:(1.0), 48:(0.3)"), atol=1e-12)

    def test_cubic_matches_deforum_with_keys_at_both_ends(self):
        """Deforum's 'Cubic' is pandas' (scipy interp1d kind='cubic') through the keys; with keys on the
        first and last frame its extra end knots change nothing."""
        keys = {0: 0.2, 30: 1.0, 70: 0.1, 119: 0.6}
        ours = values(", ".join(f"{k}:({v})" for k, v in keys.items()), "cubic")
        theirs = interp1d(list(keys), list(keys.values()), kind="cubic")(np.arange(120))
        np.testing.assert_allclose(ours, theirs, atol=1e-9)

    def test_cubic_lowers_like_deforum(self):
        three = values("0:(0), 60:(1), 119:(0)", "cubic")
        np.testing.assert_allclose(three, interp1d([0, 60, 119], [0, 1, 0], kind="quadratic")(np.arange(120)))
        np.testing.assert_allclose(values("0:(0), 60:(1)", "cubic"), values("0:(0), 60:(1)", "linear"))

    def test_hold_before_first_and_after_last(self):
        for interp in ("linear", "cubic", "step"):
            v = values("20:(0.4), 40:(0.9), 60:(0.1), 80:(0.5)", interp)
            assert np.all(v[:21] == 0.4) and np.all(v[80:] == 0.5)

    def test_step_holds_until_next_key(self):
        v = values("0:(1), 10:(0.5), 20:(0)", "step")
        assert np.all(v[:10] == 1) and np.all(v[10:20] == 0.5) and np.all(v[20:] == 0)

    def test_unknown_interp(self):
        with pytest.raises(UserInputError, match="--interp must be one of linear, cubic, step"):
            interpolate(np.array([0.0]), np.array([1.0]), TIMES, "spline")


class TestEaseWeights:
    @pytest.mark.parametrize("interp", ["linear", "cubic", "step"])
    def test_rows_sum_to_one_and_stay_in_range(self, interp):
        w = ease_weights(np.array([0.5, 2.0, 4.0]), TIMES, interp)
        np.testing.assert_allclose(w.sum(axis=1), 1.0)
        assert w.min() >= 0 and w.max() <= 1

    def test_unsorted_keys_keep_their_columns(self):
        w = ease_weights(np.array([4.0, 0.0]), np.array([0.0, 2.0, 4.0]))
        np.testing.assert_allclose(w, [[0, 1], [0.5, 0.5], [1, 0]])
