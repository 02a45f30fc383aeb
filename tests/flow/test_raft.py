"""RAFT with random weights saved locally: no network, no pretrained files needed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch
from torchvision.models.optical_flow import raft_small

from vidstyle.errors import ShapeError, WeightsError
from vidstyle.flow import raft as raft_module
from vidstyle.flow.base import FlowEstimator
from vidstyle.flow.raft import RaftFlow, hub_weights_path, raft_weights_available


@pytest.fixture(scope="module")
def small_weights(tmp_path_factory) -> Path:
    """A raft_small state dict with seeded random weights."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("raft") / "raft_small_random.pth"
    torch.save(raft_small(weights=None).state_dict(), path)
    return path


@pytest.fixture(scope="module")
def raft(small_weights) -> RaftFlow:
    return RaftFlow(small_weights, num_flow_updates=2)


@pytest.fixture
def hub_dir(tmp_path, monkeypatch) -> Path:
    """An empty torch hub directory, so nothing cached on this machine is found."""
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    return tmp_path


class TestRaftFlow:
    def test_smoke(self, raft):
        assert isinstance(raft, FlowEstimator) and raft.name == "raft"
        assert raft.small  # told apart from raft_large by the file's layout
        g = torch.Generator().manual_seed(1)
        source = torch.rand(1, 3, 64, 96, generator=g)
        target = torch.roll(source, shifts=2, dims=-1)
        flow = raft(source, target)
        assert flow.shape == (1, 2, 64, 96) and flow.dtype == torch.float32
        assert bool(flow.isfinite().all())
        # a normal tensor, usable by autograd code such as the temporal loss
        assert not flow.is_inference() and not flow.requires_grad

    def test_follows_input_dtype(self, raft):
        source = torch.rand(1, 3, 16, 24, dtype=torch.float64)
        flow = raft(source, source.flip(-1))
        assert flow.shape == (1, 2, 16, 24) and flow.dtype == torch.float64

    def test_garbage_file(self, tmp_path):
        path = tmp_path / "garbage.pth"
        path.write_bytes(b"this is not a checkpoint")
        with pytest.raises(WeightsError, match=r"cannot read RAFT weights .*garbage\.pth"):
            RaftFlow(path)

    def test_missing_file(self, tmp_path):
        with pytest.raises(WeightsError, match=r"RAFT weights file not found: .*nothing\.pth"):
            RaftFlow(tmp_path / "nothing.pth")

    def test_wrong_layout(self, tmp_path, small_weights):
        path = tmp_path / "other.pth"
        torch.save({"conv.weight": torch.zeros(3, 3)}, path)
        match = r"do not fit torchvision raft_large: 169 missing, 1 unexpected"
        with pytest.raises(WeightsError, match=match):
            RaftFlow(path)
        with pytest.raises(WeightsError, match=r"do not fit torchvision raft_large"):
            RaftFlow(small_weights, small=False)

    def test_not_found_offline(self, hub_dir):
        with pytest.raises(WeightsError, match=r"not found offline.*--raft-weights PATH"):
            RaftFlow()

    def test_loads_from_hub_cache(self, hub_dir, small_weights, monkeypatch):
        # torch hub file names carry a sha256 prefix; name our random file the same way.
        digest = hashlib.sha256(small_weights.read_bytes()).hexdigest()[:8]
        cached = hub_dir / "checkpoints" / f"raft_small_test-{digest}.pth"
        cached.parent.mkdir()
        cached.write_bytes(small_weights.read_bytes())
        monkeypatch.setattr(raft_module, "hub_weights_path", lambda small: cached.with_stem(
            f"raft_small_test-{digest}" if small else "raft_large_test-00000000"))
        assert raft_weights_available() == cached
        flow = RaftFlow(num_flow_updates=1)
        assert flow.small

    def test_hub_cache_checksum(self, hub_dir, small_weights):
        cached = hub_weights_path(True)
        cached.parent.mkdir(parents=True)
        cached.write_bytes(small_weights.read_bytes())
        assert raft_weights_available(True) == cached
        assert raft_weights_available(False) is None
        with pytest.raises(WeightsError, match=r"cached RAFT weights .* have sha256"):
            RaftFlow(small=True)

    def test_wrong_shape(self, raft):
        with pytest.raises(ShapeError, match=r"source must be \(B, 3, H, W\), got \(1, 3, 8\)"):
            raft(torch.rand(1, 3, 8), torch.rand(1, 3, 8, 8))

    @pytest.mark.cuda
    @pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
    def test_cuda(self, small_weights):
        estimator = RaftFlow(small_weights, device="cuda", num_flow_updates=2)
        source = torch.rand(1, 3, 64, 96, device="cuda")
        flow = estimator(source, source)
        assert flow.device.type == "cuda" and flow.shape == (1, 2, 64, 96)
