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


def native_bf16(device: torch.device) -> bool:
    """True on CPUs that compute bfloat16 in hardware (AVX512-BF16 or AMX); elsewhere it is emulated."""
    if device.type != "cpu":
        return False
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # private, present in torch 2.x
    return any(getattr(torch.cpu, name, lambda: False)() for name in probes)


def default_precision(device: torch.device) -> str:
    """``--precision auto``: bf16 where the CPU computes it natively, fp32 elsewhere.

    On the project's 2-core AVX512-BF16 CPU the compiled Magenta network took ~40 ms a 640x360 frame in
    bf16 against ~65 ms in fp32 (``benchmarks/stylizers.py``), with the same warping error, style and
    content distances on the real clips and pixels within ~1/255 on average. fp16 on GPUs has not been
    measured here, so a GPU keeps fp32 unless asked.
    """
    return "bf16" if native_bf16(device) else "fp32"


def describe(device: torch.device) -> str:
    """Human name of the device, for --json and benchmarks (e.g. ``cuda:0 NVIDIA H100``)."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} {torch.cuda.get_device_name(index)}"
    return device.type
