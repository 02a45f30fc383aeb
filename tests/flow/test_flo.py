from __future__ import annotations

import numpy as np
import pytest
import torch

from vidstyle.errors import UserInputError
from vidstyle.flow.flo import read_flo, write_flo


class TestReadFlo:
    def test_round_trip(self, tmp_path):
        flow = torch.randn(1, 2, 5, 7)
        write_flo(tmp_path / "a.flo", flow)
        torch.testing.assert_close(read_flo(tmp_path / "a.flo"), flow)

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
        write_flo(tmp_path / "e.flo", torch.zeros(1, 2, 4, 4))
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
