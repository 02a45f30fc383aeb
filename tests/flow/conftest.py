"""Fixtures for the flow tests: device/dtype grids (kornia style), textured images, shared data."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

@pytest.fixture(params=[torch.float32, torch.float64], ids=["float32", "float64"])
def dtype(request) -> torch.dtype:
    return request.param


@pytest.fixture(scope="session")
def flow_data(shared_data: Path) -> Path:
    """``shared/data/flow``; the test skips when the shared data is not here."""
    path = shared_data / "flow"
    if not path.is_dir():
        pytest.skip(f"shared flow data not found at {path} (set VIDSTYLE_SHARED_DATA)")
    return path


def smooth_texture(height: int, width: int, *, cell: int = 4, seed: int = 0) -> torch.Tensor:
    """(1, 3, H, W) float RGB 0..1: bicubic-upsampled noise, smooth enough for flow, rich enough to track."""
    g = torch.Generator().manual_seed(seed)
    noise = torch.rand(1, 3, height // cell + 4, width // cell + 4, generator=g)
    big = F.interpolate(noise, scale_factor=cell, mode="bicubic", align_corners=False)
    return big[..., 2 * cell : 2 * cell + height, 2 * cell : 2 * cell + width].clamp(0.0, 1.0).contiguous()


@pytest.fixture(scope="session")
def texture():
    """``smooth_texture`` as a fixture, so test modules need not import conftest."""
    return smooth_texture
