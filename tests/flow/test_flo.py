from __future__ import annotations

import numpy as np
import pytest
import torch

from vidstyle.errors import UserInputError
from vidstyle.flow.flo import read_flo


def _write(path, uv: np.ndarray) -> None:
    """(H, W, 2) float (u, v) as a .flo file, written by hand from the Middlebury layout."""
    height, width = uv.shape[:2]
    header = np.array([202021.25], "<f4").tobytes() + np.array([width, height], "<i4").tobytes()
    path.write_bytes(header + uv.astype("<f4").tobytes())


class TestReadFlo:
    def test_values_come_back_exactly(self, tmp_path):
        uv = np.random.default_rng(0).normal(size=(5, 7, 2)).astype(np.float32)
        _write(tmp_path / "a.flo", uv)
        flow = read_flo(tmp_path / "a.flo")
        assert torch.equal(flow, torch.from_numpy(uv).permute(2, 0, 1).unsqueeze(0))

    def test_layout(self, tmp_path):
        # header, then (u, v) interleaved row-major: pixel (x=1, y=0) is the second pair
        body = np.array([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]], "<f4")
        header = np.array([202021.25], "<f4").tobytes() + np.array([3, 2], "<i4").tobytes()
        (tmp_path / "b.flo").write_bytes(header + body.tobytes())
        flow = read_flo(tmp_path / "b.flo")
        assert flow.shape == (1, 2, 2, 3) and flow.dtype == torch.float32
        assert flow[0, :, 0, 1].tolist() == [3.0, 4.0]
        assert flow[0, 0, 1].tolist() == [7.0, 9.0, 11.0]

    def test_missing_file(self, tmp_path):
        with pytest.raises(UserInputError, match=r"cannot read flow file .*none\.flo"):
            read_flo(tmp_path / "none.flo")

    def test_bad_magic(self, tmp_path):
        (tmp_path / "c.flo").write_bytes(b"NOPE" + bytes(20))
        with pytest.raises(UserInputError, match=r"is not a \.flo file: magic number"):
            read_flo(tmp_path / "c.flo")

    def test_too_short(self, tmp_path):
        (tmp_path / "d.flo").write_bytes(b"abc")
        with pytest.raises(UserInputError, match=r"is not a \.flo file: 3 bytes"):
            read_flo(tmp_path / "d.flo")

    def test_truncated(self, tmp_path):
        _write(tmp_path / "e.flo", np.zeros((4, 4, 2)))
        data = (tmp_path / "e.flo").read_bytes()
        (tmp_path / "e.flo").write_bytes(data[:-8])
        with pytest.raises(UserInputError, match=r"a 4x4 \.flo file has 140 bytes, got 132"):
            read_flo(tmp_path / "e.flo")

    def test_bad_size(self, tmp_path):
        header = np.array([202021.25], "<f4").tobytes() + np.array([-1, 4], "<i4").tobytes()
        (tmp_path / "f.flo").write_bytes(header)
        with pytest.raises(UserInputError, match=r"bad \.flo size -1x4"):
            read_flo(tmp_path / "f.flo")

    def test_sintel(self, flow_data):
        flow = read_flo(flow_data / "sintel_alley_1" / "gt" / "frame_0002.flo")
        assert flow.shape == (1, 2, 436, 1024)
        assert bool(flow.isfinite().all())
