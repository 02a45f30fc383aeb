"""Whether a clip repays compiling the network: the cost model and the record of built kernels."""

from __future__ import annotations

import json

import pytest
import torch

from vidstyle.compiling import BUILD_SECONDS, CACHED_LOAD_SECONDS, SAVED_MS_640X360, AotKernels, KernelBuild


@pytest.fixture
def kernel_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "inductor"))
    return tmp_path / "inductor"


def _frames_to_repay(seconds: float, build: KernelBuild) -> float:
    per_frame = SAVED_MS_640X360[(build.what, build.precision)] / 1000 * build.width * build.height / (640 * 360)
    return seconds / per_frame


def test_short_clip_runs_uncompiled_long_clip_compiles(kernel_cache):
    build = KernelBuild("magenta", 640, 360, "bf16")
    cold = _frames_to_repay(BUILD_SECONDS, build)
    assert build.pays(int(cold * 0.9))[0] is False
    assert build.pays(int(cold * 1.1) + 1)[0] is True
    pays, why = build.pays(16)
    assert not pays and "uncompiled" in why and "16 frames" in why


def test_built_kernels_repay_sooner(kernel_cache):
    package = kernel_cache / "vidstyle-aot" / "magenta-640x360-0123.pt2"
    build = KernelBuild("magenta", 640, 360, "bf16", package=package)
    between = int((_frames_to_repay(CACHED_LOAD_SECONDS, build) + _frames_to_repay(BUILD_SECONDS, build)) / 2)
    assert not build.cached() and build.pays(between)[0] is False
    package.parent.mkdir(parents=True)
    package.write_bytes(b"kernels")
    assert build.cached() and build.pays(between)[0] is True
    assert not KernelBuild("magenta", 640, 360, "bf16").cached()  # no package: nothing to load


def test_unknown_length_or_other_device_compiles(kernel_cache):
    assert KernelBuild("magenta", 640, 360, "bf16").pays(None)[0] is True
    assert KernelBuild("magenta", 640, 360, "fp16", device="cuda").pays(1)[0] is True


def test_saving_grows_with_the_pixels(kernel_cache):
    frames = int(_frames_to_repay(BUILD_SECONDS, KernelBuild("magenta", 640, 360, "bf16")) * 0.6)
    assert KernelBuild("magenta", 640, 360, "bf16").pays(frames)[0] is False
    assert KernelBuild("magenta", 1280, 720, "bf16").pays(frames)[0] is True


def test_run_skips_compiling_a_short_clip_and_says_so(clip16, tmp_path, kernel_cache, capsys):
    from vidstyle.cli.app import main

    out = tmp_path / "painted.mp4"
    main(["run", str(clip16), "-o", str(out), "--style", "udnie", "--json", "--max-frames", "4"])
    captured = capsys.readouterr()
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert summary["compiled"] is False and summary["frames"] == 4
    assert "vidstyle: running the network uncompiled: 4 frames at 160x96" in captured.err
    assert not (kernel_cache / "vidstyle-aot").exists()


def _packages_without_compiler(monkeypatch) -> None:
    """Building a package writes an empty file and loading it runs the eager network (no C++ build here)."""
    def load(kernels: AotKernels):
        kernels.path.parent.mkdir(parents=True, exist_ok=True)
        kernels.path.touch()
        return kernels.fn

    monkeypatch.setattr(AotKernels, "load", load)


def _package_name_start() -> str:
    """How the render's CIN-26 package for 160x96 frames is named: a render paints ahead on half of
    torch's threads (one thread or more), and kernels for one thread serve every frame size."""
    return "cin26-anysize-" if max(1, torch.get_num_threads() // 2) == 1 else "cin26-160x96-"


def test_run_builds_the_kernels_where_they_pay(clip16, tmp_path, kernel_cache, capsys, monkeypatch):
    """Where compiling pays, the render builds the package for the processing size before the first frame."""
    from vidstyle.cli.app import main

    _packages_without_compiler(monkeypatch)
    monkeypatch.setattr(KernelBuild, "pays", lambda self, frames: (True, "compiling (test)"))
    main(["run", str(clip16), "-o", str(tmp_path / "painted.mp4"), "--style", "udnie", "--json", "--quiet",
          "--max-frames", "2"])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    built = [p.name for p in (kernel_cache / "vidstyle-aot").iterdir()]
    assert summary["compiled"] is True and len(built) == 1 and built[0].startswith(_package_name_start())


def test_build_kernels_compiles_a_short_clip_for_later_runs(clip16, tmp_path, kernel_cache, capsys, monkeypatch):
    """--build-kernels: a 2-frame render, which alone would run uncompiled, builds the package; a later
    render of the same size finds it and weighs loading it, not building it."""
    from vidstyle.cli.app import main

    _packages_without_compiler(monkeypatch)
    main(["run", str(clip16), "-o", str(tmp_path / "painted.mp4"), "--style", "udnie", "--json",
          "--max-frames", "2", "--build-kernels"])
    captured = capsys.readouterr()
    summary = json.loads(captured.out.strip().splitlines()[-1])
    built = [p.name for p in (kernel_cache / "vidstyle-aot").iterdir()]
    assert summary["compiled"] is True and "as asked (--build-kernels)" in captured.err
    assert len(built) == 1 and built[0].startswith(_package_name_start())
    main(["run", str(clip16), "-o", str(tmp_path / "again.mp4"), "--style", "udnie", "--json", "--max-frames", "4"])
    assert "s loading its kernels takes" in capsys.readouterr().err  # found: loading, not building, is weighed
