"""Stylizer benchmark: ms per frame at 640x360 and 1280x720 for each feed-forward network as vidstyle runs
it (``NetworkStylizer.stylize``: padding, network, crop), eager vs compiled (ahead of time on the CPU) vs reduced precision
(bf16: autocast, or on the CPU uncompiled a bf16 copy of the network; fp16 too on CUDA), plus the pixel
difference each variant makes against eager fp32.
The optimisation method is timed per L-BFGS iteration at 256x144.

Run from the repository root:  python -m benchmarks.stylizers [--device cpu|cuda] [--no-compile]
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch

from benchmarks.common import best_ms, device_name, write_results
from vidstyle.device import resolve_device
from vidstyle.stylize.feedforward import Cin26Stylizer, JohnsonStylizer, MagentaStylizer, NetworkStylizer
from vidstyle.stylize.johnson import JohnsonTransformer
from vidstyle.stylize.styles import all_presets

SIZES = ((640, 360), (1280, 720))


def _stylizers(device: torch.device, folder: Path) -> dict[str, Callable[[], NetworkStylizer]]:
    """Fresh stylizer factories (each variant gets its own, so compiled code is not shared)."""
    vector = torch.tensor(all_presets()["starry_night"].vector)
    checkpoint = folder / "johnson.pth"  # random weights: same arithmetic as a user's candy.pth
    torch.save(JohnsonTransformer().net.state_dict(), checkpoint)
    return {
        "magenta": lambda: MagentaStylizer(vector, device),
        "cin26": lambda: Cin26Stylizer(torch.eye(26)[19], device),
        "johnson": lambda: JohnsonStylizer(checkpoint, device),
    }


def _variants(device: torch.device, compile_too: bool) -> list[tuple[str, dict]]:
    # uncompiled bf16 on the CPU runs a bf16 copy of the network; elsewhere, and compiled, bf16 is autocast
    eager_bf16 = "eager bf16 (network copy)" if device.type == "cpu" else "eager bf16 autocast"
    variants = [("eager fp32", {"precision": "fp32"}), (eager_bf16, {"precision": "bf16"})]
    if device.type == "cuda":
        variants.append(("eager fp16 autocast", {"precision": "fp16"}))
    if compile_too:
        variants += [("compiled fp32", {"precision": "fp32", "compile": True}),
                     ("compiled bf16 autocast", {"precision": "bf16", "compile": True})]
        if device.type == "cuda":
            variants.append(("compiled fp16 autocast", {"precision": "fp16", "compile": True}))
    return variants


def _time(stylizer: NetworkStylizer, device: torch.device, width: int, height: int,
          reference: torch.Tensor | None) -> tuple[float | str, torch.Tensor | None, float | str | None]:
    content = torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(0)).to(device)
    try:
        with torch.inference_mode():
            out = stylizer.stylize(content)  # builds compiled code outside the timing
            ms = best_ms(lambda: stylizer.stylize(content), device, repeats=5)
    except Exception as exc:  # a variant that does not run here is reported, not fatal
        return f"failed: {type(exc).__name__}", None, None
    diff = "reference" if reference is None else float((out - reference).abs().max())
    return ms, out, diff


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--no-compile", action="store_true", help="skip the compiled variants (each builds its kernels, ~30 s on a CPU)")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, make in _stylizers(device, Path(folder)).items():
            references: dict[tuple[int, int], torch.Tensor] = {}
            for variant, options in _variants(device, not args.no_compile):
                stylizer = make()
                stylizer.accelerate(**options)
                row = {"method": name, "variant": variant}
                for w, h in SIZES:
                    ms, out, diff = _time(stylizer, device, w, h, references.get((w, h)))
                    row[f"ms {w}x{h}"] = ms
                    if out is not None and (w, h) not in references:
                        references[(w, h)] = out
                    if (w, h) == SIZES[0]:
                        row["max abs diff vs eager fp32"] = diff
                rows.append(row)
                print(row, flush=True)
    from vidstyle.stylize.optimize import OptimizeSettings, OptimizeStylizer

    style = torch.rand(1, 3, 256, 256, device=device)
    content = torch.rand(1, 3, 144, 256, device=device)
    solver = OptimizeStylizer(style, OptimizeSettings(iterations=10, scales=(1.0,)))
    per_iteration = best_ms(lambda: solver.stylize(content), device, warmup=1, repeats=2) / 10
    rows.append({"method": "optimize (Gatys, L-BFGS)", "variant": "eager fp32, per iteration at 256x144",
                 "ms 640x360": per_iteration})
    write_results(f"stylizers_{device.type}", rows,
                  ["method", "variant", "ms 640x360", "ms 1280x720", "max abs diff vs eager fp32"],
                  device=device_name(device), torch_threads=torch.get_num_threads(),
                  torch_version=torch.__version__)


if __name__ == "__main__":
    main()
