"""How the feed-forward networks run: compiled ahead of time on the CPU (same pixels), reduced precision, and the fall back
when compiling is impossible."""

from __future__ import annotations

import copy
import inspect
import logging
import os
import shutil

import pytest
import torch
import torch.nn.functional as F

from vidstyle.compiling import AotKernels, ModelLibrary
from vidstyle.device import default_precision
from vidstyle.errors import UserInputError
from vidstyle.processor import FrameProcessor
from vidstyle.stylize import nets
from vidstyle.stylize.feedforward import Cin26Stylizer, MagentaStylizer
from vidstyle.stylize.styles import all_presets


def _photo(height: int = 64, width: int = 96, seed: int = 0) -> torch.Tensor:
    """(1, 3, H, W) in 0..1: smooth colour blobs plus grain."""
    g = torch.Generator().manual_seed(seed)
    blobs = F.interpolate(torch.rand(1, 3, height // 8, width // 8, generator=g), size=(height, width),
                          mode="bicubic")
    return (blobs + 0.1 * torch.rand(1, 3, height, width, generator=g)).clamp(0.0, 1.0)


def _magenta(device: torch.device | str = "cpu") -> MagentaStylizer:
    return MagentaStylizer(torch.tensor(all_presets()["starry_night"].vector), device)


def _styles() -> tuple[torch.Tensor, torch.Tensor]:
    presets = all_presets()
    return torch.tensor(presets["starry_night"].vector), torch.tensor(presets["the_wave"].vector)


@pytest.fixture
def kernel_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "inductor"))
    return tmp_path / "inductor" / "vidstyle-aot"


@pytest.fixture
def torch_threads():
    """``torch_threads(n)``: torch's threads for the test (kernels are named and built for them)."""
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


def _eager_loads(monkeypatch) -> list[tuple]:
    """Replace building and loading a package by the eager function, recording the input shapes of
    each load (no C++ compiler needed)."""
    loads = []

    def load(kernels: AotKernels):
        loads.append(tuple(tuple(x.shape) for x in kernels.examples))
        return kernels.fn

    monkeypatch.setattr(AotKernels, "load", load)
    return loads


@pytest.mark.parametrize("threads", [2, 1])
def test_one_build_serves_every_style(monkeypatch, kernel_cache, torch_threads, threads):
    # The style is an input of the compiled graph: a second style is another argument, not another build.
    # On two threads a frame size is a package; on one a package serves every size.
    torch_threads(threads)
    loads = _eager_loads(monkeypatch)
    eager, compiled = _magenta(), _magenta()
    compiled.accelerate(compile=True, precision="fp32")
    first, second = _styles()
    content = _photo()
    with torch.no_grad():
        painted = [compiled.stylize(content, first), compiled.stylize(content, second), compiled.stylize(content)]
        expected = [eager.stylize(content, first), eager.stylize(content, second)]
    assert loads == [((1, 3, 64, 96), (1, 100))]
    assert (painted[0] - painted[1]).abs().mean() > 0.02  # two styles, two paintings
    torch.testing.assert_close(painted[0], expected[0], atol=0, rtol=0)
    torch.testing.assert_close(painted[1], expected[1], atol=0, rtol=0)
    torch.testing.assert_close(painted[2], expected[0], atol=0, rtol=0)  # no style: the one it was built with
    compiled.stylize(_photo(height=32, width=48))
    assert loads[1] == ((1, 3, 32, 48), (1, 100))  # its kernels, loaded for the new size
    if threads == 2:
        assert compiled.kernel_package(96, 64) != compiled.kernel_package(48, 32)
        assert compiled.kernel_package(96, 64).name.startswith("magenta-96x64-")
    else:
        assert compiled.kernel_package(96, 64) == compiled.kernel_package(48, 32)
        assert compiled.kernel_package(96, 64).name.startswith("magenta-anysize-")
        assert compiled.kernel_package(28, 20) != compiled.kernel_package(96, 64)  # too small for any size


def test_a_package_is_named_by_the_weights_precision_and_cpu(monkeypatch, kernel_cache, torch_threads):
    # Kernels hold the network's weights, their thread count and the CPU's instructions: other weights,
    # another precision, other threads or another CPU (a shared home folder) must never load them.
    torch_threads(2)
    stylizer = _magenta()
    stylizer.accelerate(compile=True, precision="fp32")
    package = stylizer.kernel_package(96, 64)
    assert package.parent == kernel_cache and stylizer.kernel_package(96, 64) == package
    assert stylizer.kernel_package(94, 62) == package  # padded to a multiple of 4: the same input shape
    other = _magenta()
    with torch.no_grad():
        other.net.conv1.conv2d.bias.add_(0.01)
    other.accelerate(compile=True, precision="fp32")
    assert other.kernel_package(96, 64) != package
    stylizer.accelerate(compile=True, precision="bf16")
    assert stylizer.kernel_package(96, 64) != package
    stylizer.accelerate(compile=True, precision="fp32")
    threads = torch.get_num_threads()
    torch.set_num_threads(threads + 1)  # kernels built for other threads are parallelised differently
    try:
        assert stylizer.kernel_package(96, 64) != package
    finally:
        torch.set_num_threads(threads)
    with monkeypatch.context() as options:
        options.setattr("vidstyle.compiling.AOT_OPTIONS", {})  # built without freezing: other kernels
        assert stylizer.kernel_package(96, 64) != package
    assert stylizer.kernel_package(96, 64) == package
    monkeypatch.setattr("vidstyle.compiling._machine_tag", lambda: "x86_64 flags fpu sse2")
    assert stylizer.kernel_package(96, 64) != package
    stylizer.accelerate(compile=False, precision="fp32")
    assert stylizer.kernel_package(96, 64) is None


def test_new_network_code_is_a_new_package(monkeypatch, kernel_cache, tmp_path):
    # A package freezes the network's code: an update that changes a layer's source must not load it.
    stylizer = _magenta()
    stylizer.accelerate(compile=True, precision="fp32")
    package = stylizer.kernel_package(96, 64)
    edited = tmp_path / "nets.py"
    edited.write_text(inspect.getsource(nets) + "\n# a changed layer\n")
    real = inspect.getsourcefile
    monkeypatch.setattr(inspect, "getsourcefile", lambda obj: str(edited) if real(obj) == nets.__file__ else real(obj))
    updated = _magenta()
    updated.accelerate(compile=True, precision="fp32")
    assert updated.kernel_package(96, 64) != package


@pytest.mark.parametrize("threads", [2, 1])
def test_compiled_network_paints_the_same_pixels(monkeypatch, kernel_cache, torch_threads, threads):
    # With a C++ compiler the package is really built (and paints the eager pixels), then loaded by
    # another stylizer without building again; without one the network falls back to eager. On one
    # thread the package serves every frame size.
    torch_threads(threads)
    compiler = shutil.which(os.environ.get("CXX", "c++")) or shutil.which("g++") or shutil.which("clang++")
    eager, compiled = _magenta(), _magenta()
    compiled.accelerate(compile=True, precision="fp32")
    content = _photo()
    second = _styles()[1]
    with torch.no_grad():
        expected = [eager.stylize(content), eager.stylize(content, second)]
        # Built on the first call; a channels-last view of the same frame must give the same pixels.
        first = compiled.stylize(content)
        again = compiled.stylize(content.contiguous(memory_format=torch.channels_last))
        other = compiled.stylize(content, second)
    assert compiled.compiled == (compiler is not None)
    torch.testing.assert_close(first, expected[0], atol=1e-4, rtol=0)
    torch.testing.assert_close(again, expected[0], atol=1e-4, rtol=0)
    torch.testing.assert_close(other, expected[1], atol=1e-4, rtol=0)
    if compiler is None:
        return
    package = compiled.kernel_package(96, 64)
    # the package and its model library, unpacked to be called without the GIL; no partial left
    assert sorted(p.name for p in kernel_cache.iterdir()) == [package.name, package.with_suffix(".so").name]
    loader = torch._C._aoti.AOTIModelPackageLoader(str(package), "model", False, 1, -1)
    inputs = [content, compiled.style]
    assert torch.equal(ModelLibrary(package)(inputs), loader.run(inputs)[0])
    # a library older than its package (left from a package since deleted and rebuilt) is unpacked again
    library = package.with_suffix(".so")
    library.unlink()  # a new file, not the one this process has mapped
    library.write_bytes(b"not a library")
    os.utime(library, (package.stat().st_mtime - 60,) * 2)
    assert torch.equal(ModelLibrary(package)(inputs), loader.run(inputs)[0])
    assert library.read_bytes().startswith(b"\x7fELF")

    def no_build(self):
        raise AssertionError("the package was built again")

    monkeypatch.setattr(AotKernels, "build", no_build)
    later = _magenta()
    later.accelerate(compile=True, precision="fp32")
    with torch.no_grad():
        torch.testing.assert_close(later.stylize(content), first, atol=0, rtol=0)
    assert later.compiled
    if threads == 1:  # another frame size from the same package: the eager pixels, no build
        small = _photo(height=40, width=56, seed=3)
        with torch.no_grad():
            torch.testing.assert_close(later.stylize(small), eager.stylize(small), atol=1e-4, rtol=0)
        assert later.compiled and later.kernel_package(56, 40) == package


def test_bf16_autocast_changes_little(device):
    full, reduced = Cin26Stylizer(torch.eye(26)[19], device), Cin26Stylizer(torch.eye(26)[19], device)
    reduced.accelerate(precision="bf16")
    content = _photo().to(device)
    with torch.no_grad():
        a, b = full.stylize(content), reduced.stylize(content)
    assert b.dtype == torch.float32 and b.shape == a.shape
    difference = (a - b).abs()
    assert 0 < difference.mean() < 0.02  # it really ran in bf16, and the picture is the same one


def test_uncompiled_bf16_on_the_cpu_runs_a_bf16_copy():
    # Autocast would cast the weights on every call; the eager CPU path runs a bf16 copy of the network
    # instead, as close to fp32 as autocast is, and leaves the network the kernels are built from alone.
    full, copy, autocast = (Cin26Stylizer(torch.eye(26)[19]) for _ in range(3))
    copy.accelerate(precision="bf16")
    autocast.accelerate(precision="bf16")
    autocast._network = autocast._forward  # the network under autocast, as before
    content = _photo()
    with torch.no_grad():
        a, b, c = full.stylize(content), copy.stylize(content), autocast.stylize(content)
    assert copy._bf16_net is not None and next(copy._bf16_net.parameters()).dtype == torch.bfloat16
    assert next(copy.net.parameters()).dtype == torch.float32
    assert b.dtype == torch.float32
    assert 0 < (a - b).abs().mean() < 2 * (a - c).abs().mean() + 1e-3  # measured: 0.0042 against 0.0035
    assert b.is_contiguous()  # whatever layout the copy paints in, the frame leaves contiguous


def test_the_bf16_copy_paints_channels_last_with_the_same_pixels():
    # oneDNN's bf16 convolutions are faster on channels-last tensors (whole uncompiled renders 4-10%);
    # the layout must not change what is painted
    stylizer = Cin26Stylizer(torch.eye(26)[19])
    stylizer.accelerate(precision="bf16")
    content = _photo()
    with torch.no_grad():
        painted = stylizer.stylize(content)
        plain = copy.deepcopy(stylizer.net).to(torch.bfloat16)(content.to(torch.bfloat16),
                                                               stylizer.style.to(torch.bfloat16)).float()
    convs = [m for m in stylizer._bf16_net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(c.weight.is_contiguous(memory_format=torch.channels_last) for c in convs)
    torch.testing.assert_close(painted, plain.clamp(0.0, 1.0), atol=1e-2, rtol=0)
    assert (painted - plain.clamp(0.0, 1.0)).abs().mean() < 1e-4  # measured: 0


def test_precision_errors():
    stylizer = _magenta()
    with pytest.raises(UserInputError, match="fp16 needs a GPU"):
        stylizer.accelerate(precision="fp16")
    with pytest.raises(UserInputError, match="--precision must be one of auto, fp32, bf16, fp16"):
        stylizer.accelerate(precision="int4")


@pytest.mark.parametrize("avx512_bf16, amx, expected", [(True, False, "bf16"), (False, True, "bf16"),
                                                         (False, False, "fp32")])
def test_auto_precision_is_bf16_only_where_the_cpu_has_it(monkeypatch, avx512_bf16, amx, expected):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    stylizer = _magenta()
    stylizer.accelerate(precision="auto")
    assert stylizer.precision == expected
    assert default_precision(torch.device("cuda")) == "fp32"  # fp16 on GPUs is not measured here


def test_failed_compile_falls_back_with_one_notice(monkeypatch, caplog, kernel_cache):
    def broken_build(self):
        raise RuntimeError("no C++ compiler found")

    monkeypatch.setattr(AotKernels, "build", broken_build)
    stylizer, eager = _magenta(), _magenta()
    stylizer.accelerate(compile=True, precision="fp32")
    content = _photo()
    with caplog.at_level(logging.WARNING, logger="vidstyle"), torch.no_grad():
        out = stylizer.stylize(content)
        stylizer.stylize(content)
    assert not stylizer.compiled
    torch.testing.assert_close(out, eager.stylize(content), atol=0, rtol=0)
    notices = [r.getMessage() for r in caplog.records]
    assert len(notices) == 1 and "could not compile the magenta network (no C++ compiler found)" in notices[0]


def test_prepare_paints_once_at_the_processing_size(monkeypatch):
    # What a compiled network is built for before the render starts must be the size frames will have.
    stylizer = _magenta()
    sizes = []
    network = stylizer._network
    monkeypatch.setattr(stylizer, "_network", lambda x, style: sizes.append(tuple(x.shape)) or network(x, style))
    processor = FrameProcessor(stylizer, None, max_side=96)
    processor.prepare(width=192, height=128)
    assert sizes == [(1, 3, 64, 96)]
