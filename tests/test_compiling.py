"""Whether a clip repays compiling the network: the cost model and the record of built kernels."""

from __future__ import annotations

import json

import pytest

from vidstyle.compiling import BUILD_SECONDS, CACHED_LOAD_SECONDS, SAVED_MS_640X360, KernelBuild


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


def test_cached_kernels_repay_sooner(kernel_cache):
    build = KernelBuild("magenta", 640, 360, "bf16")
    between = int((_frames_to_repay(CACHED_LOAD_SECONDS, build) + _frames_to_repay(BUILD_SECONDS, build)) / 2)
    assert not build.cached() and build.pays(between)[0] is False
    build.remember()
    build.remember()  # recorded once
    assert build.cached() and build.pays(between)[0] is True
    assert (kernel_cache / "vidstyle-built.txt").read_text().splitlines() == [build.key]
    # another size, precision or network is not cached by that
    for other in (KernelBuild("magenta", 1280, 720, "bf16"), KernelBuild("magenta", 640, 360, "fp32"),
                  KernelBuild("cin26", 640, 360, "bf16")):
        assert not other.cached()


def test_a_new_kernel_cache_forgets_what_was_built(kernel_cache, tmp_path, monkeypatch):
    build = KernelBuild("cin26", 320, 180, "fp32")
    build.remember()
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert not build.cached()


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
    assert not (kernel_cache / "vidstyle-built.txt").exists()


def test_run_records_the_kernels_it_built(clip16, tmp_path, kernel_cache, capsys, monkeypatch):
    """Where compiling pays, the render prepares the network and records the size it built."""
    import torch

    from vidstyle.cli.app import main

    monkeypatch.setattr(torch, "compile", lambda fn, **_: lambda *a, **k: fn(*a, **k))  # no C++ build here
    monkeypatch.setattr(KernelBuild, "pays", lambda self, frames: (True, "compiling (test)"))
    main(["run", str(clip16), "-o", str(tmp_path / "painted.mp4"), "--style", "udnie", "--json", "--quiet",
          "--max-frames", "2"])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    built = (kernel_cache / "vidstyle-built.txt").read_text().splitlines()
    assert summary["compiled"] is True and len(built) == 1 and " 160x96 " in built[0]


def test_build_kernels_compiles_a_short_clip_for_later_runs(clip16, tmp_path, kernel_cache, capsys, monkeypatch):
    """--build-kernels: a 2-frame render, which alone would run uncompiled, builds and records the kernels."""
    import torch

    from vidstyle.cli.app import main

    monkeypatch.setattr(torch, "compile", lambda fn, **_: lambda *a, **k: fn(*a, **k))  # no C++ build here
    main(["run", str(clip16), "-o", str(tmp_path / "painted.mp4"), "--style", "udnie", "--json",
          "--max-frames", "2", "--build-kernels"])
    captured = capsys.readouterr()
    summary = json.loads(captured.out.strip().splitlines()[-1])
    built = (kernel_cache / "vidstyle-built.txt").read_text().splitlines()
    assert summary["compiled"] is True and "as asked (--build-kernels)" in captured.err
    assert len(built) == 1 and " 160x96 " in built[0]
