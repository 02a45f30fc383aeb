"""uint8 frames <-> float tensors: exact values, and the layout the later steps are fast on."""

from __future__ import annotations

import numpy as np
import torch

from vidstyle.io.convert import to_tensor, to_uint8


def test_to_tensor_is_contiguous_and_exact():
    frame = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    image = to_tensor(frame)
    assert image.shape == (1, 3, 5, 7) and image.dtype == torch.float32
    assert image.is_contiguous()  # not the channels-last strides of a permuted view
    np.testing.assert_array_equal(image[0, 1].numpy(), frame[..., 1].astype(np.float32) / 255.0)


def test_uint8_round_trip_is_lossless_and_clips():
    frame = np.random.default_rng(1).integers(0, 256, (6, 4, 3), dtype=np.uint8)
    np.testing.assert_array_equal(to_uint8(to_tensor(frame)), frame)
    out = to_uint8(torch.tensor([-0.5, 0.5, 1.5]).view(1, 3, 1, 1))
    assert out.flags["C_CONTIGUOUS"] and out.tolist() == [[[0, 128, 255]]]
