from __future__ import annotations

from pathlib import Path
from urllib.error import URLError

import pytest
import torch
from torchvision.models.optical_flow import raft_small

from vidstyle.errors import ResourceUnavailableError, UserInputError
from vidstyle.flow import factory
from vidstyle.flow.factory import build_flow
from vidstyle.flow.opencv import DisFlow, FarnebackFlow
from vidstyle.flow.raft import RaftFlow, hub_weights_path


@pytest.fixture
def hub_dir(tmp_path, monkeypatch) -> Path:
    """An empty torch hub directory, so nothing cached on this machine is found."""
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    return tmp_path / "hub"


class TestBuildFlow:
    def test_opencv(self):
        assert isinstance(build_flow("dis"), DisFlow)
        assert isinstance(build_flow("FARNEBACK", "cpu"), FarnebackFlow)
        assert build_flow("dis", scale=0.5).scale == 0.5

    def test_run_uses_dis_with_two_refinement_iterations(self):
        assert build_flow("dis").refinement_iterations == 2
        assert DisFlow().refinement_iterations == 5  # OpenCV's medium preset keeps its own

    def test_unknown_name(self):
        match = r"--flow must be one of auto, dis, farneback, raft, got 'deepflow'"
        with pytest.raises(UserInputError, match=match):
            build_flow("deepflow")

    def test_bad_scale(self):
        with pytest.raises(UserInputError, match=r"flow scale must be in \(0, 1\], got 2"):
            build_flow("dis", scale=2)

    def test_auto_on_cpu_is_dis(self, hub_dir):
        assert isinstance(build_flow("auto", "cpu"), DisFlow)

    def test_auto_on_cuda_without_weights_is_dis(self, hub_dir):
        # torch.device("cuda") needs no GPU to exist; DIS runs on the CPU whatever the device.
        assert isinstance(build_flow("auto", torch.device("cuda")), DisFlow)

    def test_auto_on_cuda_with_cached_weights_is_raft(self, hub_dir):
        cached = hub_weights_path(True)
        cached.parent.mkdir(parents=True)
        cached.write_bytes(b"")
        assert factory._auto_choice(torch.device("cuda"), None) == "raft"
        assert factory._auto_choice(torch.device("cpu"), None) == "dis"

    def test_raft_without_weights_offline(self, hub_dir):
        match = r"pass --raft-weights PATH.* or run once with internet"
        with pytest.raises(ResourceUnavailableError, match=match):
            build_flow("raft", "cpu", allow_download=False)

    def test_raft_download_fails_offline(self, hub_dir, monkeypatch):
        def offline(*args, **kwargs):
            raise URLError("no network")

        monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
        match = r"could not download raft_large weights.*--raft-weights"
        with pytest.raises(ResourceUnavailableError, match=match):
            build_flow("raft", "cpu")

    def test_raft_with_weights_file(self, tmp_path):
        torch.manual_seed(0)
        path = tmp_path / "small.pth"
        torch.save(raft_small(weights=None).state_dict(), path)
        estimator = build_flow("raft", "cpu", raft_weights=path)
        assert isinstance(estimator, RaftFlow) and estimator.small
