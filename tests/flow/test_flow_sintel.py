"""DIS and the Ruder mask on a real MPI-Sintel pair (alley_1, clean, frames 2 -> 3) with ground truth."""

from __future__ import annotations

import cv2
import pytest
import torch

from vidstyle.flow.flo import read_flo
from vidstyle.flow.occlusion import consistency_mask
from vidstyle.flow.opencv import DisFlow

pytestmark = pytest.mark.slow


def _read_rgb(path) -> torch.Tensor:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    rgb = torch.from_numpy(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    return rgb.permute(2, 0, 1).unsqueeze(0).float().div(255.0)


def _read_mask(path) -> torch.Tensor:
    return torch.from_numpy(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) > 127)[None, None]


@pytest.fixture(scope="module")
def alley(request):
    flow_data = request.getfixturevalue("flow_data")
    scene = flow_data / "sintel_alley_1"
    frame2 = _read_rgb(scene / "clean" / "frame_0002.png")
    frame3 = _read_rgb(scene / "clean" / "frame_0003.png")
    gt = read_flo(scene / "gt" / "frame_0002.flo")  # forward: frame2(x) ~ frame3(x + gt(x))
    occluded = _read_mask(scene / "gt" / "occlusions" / "frame_0002.png")  # pixels of frame 2 hidden in 3
    dis = DisFlow()
    return frame2, frame3, gt, occluded, dis(frame2, frame3), dis(frame3, frame2)


class TestDisOnSintel:
    def test_endpoint_error(self, alley):
        _, _, gt, _, forward, _ = alley
        epe = (forward - gt).norm(dim=1).mean().item()
        zero_epe = gt.norm(dim=1).mean().item()
        assert epe < 0.3 * zero_epe, f"DIS EPE {epe:.2f} vs zero flow {zero_epe:.2f}"


class TestConsistencyMaskOnSintel:
    def test_recall_on_occlusions(self, alley):
        # The mask lives on frame 2 ("cur"); "prev" is frame 3: 0 = not visible in frame 3.
        _, _, _, occluded, forward, backward = alley
        unreliable = consistency_mask(flow_prev_to_cur=backward, flow_cur_to_prev=forward) < 0.5
        recall = (unreliable & occluded).sum().item() / occluded.sum().item()
        chance = unreliable.float().mean().item()  # recall of the same number of pixels flagged at random
        assert recall > 3 * chance, f"recall {recall:.3f}, chance {chance:.3f}"
        assert recall > 0.15
