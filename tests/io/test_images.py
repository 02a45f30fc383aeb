"""VFX hand-off: EXR half float and 16-bit TIFF/PNG round trips, matte compositing, frame numbering."""

from __future__ import annotations

import numpy as np
import pytest

from vidstyle.compositing import apply_matte
from vidstyle.errors import UserInputError
from vidstyle.io.images import read_image_float, write_image_float
from vidstyle.io.matte import MatteSource
from vidstyle.io.sequence import find_sequence, first_output_number

H, W = 24, 32


def fine_ramp(channels: int = 3) -> np.ndarray:
    """(H, W, C) float32 with 768 distinct levels: an 8-bit file cannot hold them."""
    ramp = (np.arange(H * W * channels, dtype=np.float32) % 768 / 767.0).reshape(H, W, channels)
    return ramp


class TestRoundTrip:
    def test_exr_half_float_exact_and_beyond_one(self, tmp_path):
        image = fine_ramp() * 4.0 - 1.0  # scene-linear values outside 0..1 too
        write_image_float(tmp_path / "a.exr", image)
        back = read_image_float(tmp_path / "a.exr")
        np.testing.assert_array_equal(back, image.astype(np.float16).astype(np.float32))
        assert len(np.unique(back)) > 256 and back.max() > 1.0 and back.min() < 0.0

    @pytest.mark.parametrize("suffix", [".tif", ".png"])
    def test_sixteen_bit_keeps_fine_levels(self, tmp_path, suffix):
        image = fine_ramp()
        write_image_float(tmp_path / f"a{suffix}", image)
        back = read_image_float(tmp_path / f"a{suffix}")
        assert np.abs(back - image).max() <= 0.5 / 65535 + 1e-7
        assert len(np.unique(back)) == 768  # 8 bits would have collapsed them to 256

    @pytest.mark.parametrize("suffix", [".exr", ".png", ".tif"])
    def test_rgba_keeps_channel_order(self, tmp_path, suffix):
        image = np.zeros((H, W, 4), np.float32)
        image[..., 0], image[..., 3] = 1.0, 0.5
        write_image_float(tmp_path / f"a{suffix}", image)
        np.testing.assert_allclose(read_image_float(tmp_path / f"a{suffix}")[0, 0], [1, 0, 0, 0.5], atol=1e-4)

    def test_eight_bit_formats_and_errors(self, tmp_path):
        write_image_float(tmp_path / "a.jpg", fine_ramp())
        assert read_image_float(tmp_path / "a.jpg").shape == (H, W, 3)
        with pytest.raises(UserInputError, match="image must be"):
            write_image_float(tmp_path / "b.png", np.zeros((H, W, 2)))
        with pytest.raises(UserInputError, match="image not found"):
            read_image_float(tmp_path / "missing.exr")


class TestApplyMatte:
    def test_zero_one_and_soft(self):
        rng = np.random.default_rng(0)
        inp, styled = rng.random((H, W, 3), np.float32), rng.random((H, W, 3), np.float32)
        matte = np.zeros((H, W), np.float32)
        matte[:, W // 2:] = 1.0
        matte[:, W // 4] = 0.5
        out = apply_matte(inp, styled, matte)
        assert np.array_equal(out[:, :W // 4], inp[:, :W // 4])
        np.testing.assert_allclose(out[:, W // 2:], styled[:, W // 2:], atol=1e-6)
        np.testing.assert_allclose(out[:, W // 4], (inp[:, W // 4] + styled[:, W // 4]) / 2, atol=1e-6)

    def test_premultiplied_rgba_keeps_alpha(self):
        alpha = np.full((H, W, 1), 0.5, np.float32)
        straight = np.full((H, W, 3), 0.8, np.float32)
        inp = np.concatenate([straight * alpha, alpha], axis=2)
        out = apply_matte(inp, np.full((H, W, 3), 0.2, np.float32), np.ones((H, W), np.float32))
        np.testing.assert_allclose(out[..., :3], 0.1, atol=1e-6)  # 0.2 premultiplied by 0.5
        assert np.array_equal(out[..., 3:], alpha)

    def test_shape_mismatch(self):
        with pytest.raises(UserInputError, match="one size"):
            apply_matte(np.zeros((H, W, 3)), np.zeros((H, W, 3)), np.zeros((H, W + 1)))


@pytest.mark.parametrize("suffix", [".png", ".exr"])
def test_matte_zero_pixels_bit_identical_in_a_sequence(tmp_path, suffix):
    """Input sequence + matte sequence -> composited output sequence: outside the matte the output
    file holds exactly the input file's values."""
    (tmp_path / "in").mkdir()
    (tmp_path / "matte").mkdir()
    rng = np.random.default_rng(1)
    for n in range(1001, 1004):
        write_image_float(tmp_path / "in" / f"plate.{n}{suffix}", rng.random((H, W, 3), np.float32))
        matte = np.zeros((H, W), np.float32)
        matte[4:20, 8 + n % 3:24] = 1.0
        matte[4:20, 7 + n % 3] = 0.5
        write_image_float(tmp_path / "matte" / f"m.{n:04d}.png", matte)
    source = find_sequence(tmp_path / "in" / f"plate.%d{suffix}")
    mattes = MatteSource(str(tmp_path / "matte" / "m.%04d.png"))
    first = first_output_number(source.first)
    for i, path in enumerate(source.paths):
        inp = read_image_float(path)
        out = apply_matte(inp, 1.0 - inp, mattes.matte(i))
        write_image_float(tmp_path / "out" / f"styled.{first + i:04d}{suffix}", out)
    out_seq = find_sequence(tmp_path / "out" / f"styled.%04d{suffix}")
    assert out_seq.first == 1001 and len(out_seq.paths) == 3
    for i, (a, b) in enumerate(zip(source.paths, out_seq.paths)):
        inp, out, matte = read_image_float(a), read_image_float(b), mattes.matte(i)
        assert np.array_equal(out[matte == 0], inp[matte == 0])
        assert np.abs(out[matte == 1] - (1 - inp[matte == 1])).max() < 1e-3


def test_matte_alpha_and_errors(tmp_path):
    rgba = np.zeros((H, W, 4), np.float32)
    rgba[..., 3] = 0.25
    assert np.all(MatteSource("alpha").matte(0, rgba) == 0.25)
    with pytest.raises(UserInputError, match="needs an input with an alpha channel"):
        MatteSource("alpha").matte(0, rgba[..., :3])
    (tmp_path / "m").mkdir()
    write_image_float(tmp_path / "m" / "m.0001.png", np.zeros((H, W)))
    with pytest.raises(UserInputError, match="has 1 images, the render needs frame 2"):
        MatteSource(str(tmp_path / "m" / "m.%04d.png")).matte(1)


class TestNumbering:
    def test_keep_input_numbers_or_start_number(self):
        assert first_output_number(1001) == 1001
        assert first_output_number(1001, skipped=24) == 1025
        assert first_output_number(1001, start_number=1) == 1
        assert first_output_number(None) == 1 and first_output_number(None, start_number=1001) == 1001
        with pytest.raises(UserInputError, match="--start-number"):
            first_output_number(None, start_number=-1)
