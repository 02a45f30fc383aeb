"""Resolve ``--device auto|cpu|cuda|mps`` to a torch.device; the only place that inspects hardware."""

from __future__ import annotations

import torch

from vidstyle.errors import ResourceUnavailableError, UserInputError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()


def resolve_device(name: str = "auto") -> torch.device:
    """Pick CUDA, then MPS, then CPU for ``auto``; refuse an explicit device that is absent."""
    name = name.lower()
    if name not in DEVICE_CHOICES and not name.startswith("cuda:"):
        raise UserInputError(f"--device must be one of {', '.join(DEVICE_CHOICES)}, got {name!r}")
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ResourceUnavailableError(
            "--device cuda was asked for but CUDA is not available here (use --device cpu or auto)"
        )
    if name == "mps" and not _mps_available():
        raise ResourceUnavailableError("--device mps was asked for but MPS is not available here")
    return torch.device(name)


def default_max_side(device: torch.device) -> int:
    """Processing size (long side) when the user gives none: 640 on CPU, 1280 on CUDA (CONTRACT.md)."""
    return 1280 if device.type == "cuda" else 640


def describe(device: torch.device) -> str:
    """Human name of the device, for --json and benchmarks (e.g. ``cuda:0 NVIDIA H100``)."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} {torch.cuda.get_device_name(index)}"
    return device.type
