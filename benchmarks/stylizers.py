"""Stylizer benchmark: ms per frame at 640x360 and 1280x720 for each method, eager vs torch.compile vs
bfloat16 (and float16 on CUDA). The optimisation method is timed per iteration at 256 px.

Run from the repository root:  python -m benchmarks.stylizers [--device cpu|cuda] [--no-compile]
"""

from __future__ import annotations

import argparse
import contextlib

import torch

from benchmarks.common import best_ms, device_name, write_results
from vidstyle.device import resolve_device
from vidstyle.stylize.feedforward import Cin26Stylizer, MagentaStylizer
from vidstyle.stylize.nets import JohnsonTransformer, pad_to_multiple
from vidstyle.stylize.styles import all_presets

SIZES = ((640, 360), (1280, 720))


def _networks(device: torch.device) -> dict[str, torch.nn.Module]:
    """The feed-forward networks as (content -> image) callables on padded input."""
    presets = all_presets()
    magenta = MagentaStylizer(torch.tensor(presets["starry_night"].vector).unsqueeze(0), device)
    cin = Cin26Stylizer(torch.eye(26)[19], device)
    johnson = JohnsonTransformer().to(device).eval().requires_grad_(False)
    return {
        "magenta": lambda x: magenta.net(x, magenta.style),
        "cin26": lambda x: cin.net(x, cin.weights),
        "johnson": johnson,
    }


def _variants(device: torch.device, compile_too: bool):
    yield "eager fp32", lambda f: f, contextlib.nullcontext
    if compile_too:
        yield "compiled fp32", lambda f: torch.compile(f), contextlib.nullcontext
    yield "eager bf16 autocast", lambda f: f, lambda: torch.autocast(device.type, dtype=torch.bfloat16)
    if device.type == "cuda":
        yield "eager fp16 autocast", lambda f: f, lambda: torch.autocast("cuda", dtype=torch.float16)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile (slow to build on CPU)")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    rows = []
    for name, net in _networks(device).items():
        for variant, wrap, ctx in _variants(device, not args.no_compile):
            row = {"method": name, "variant": variant}
            fn = wrap(net)
            for w, h in SIZES:
                x, _ = pad_to_multiple(torch.rand(1, 3, h, w, device=device), 4)
                try:
                    with torch.inference_mode(), ctx():
                        row[f"ms {w}x{h}"] = best_ms(lambda: fn(x), device, repeats=3)
                except Exception as exc:  # a variant that does not run here is reported, not fatal
                    row[f"ms {w}x{h}"] = f"failed: {type(exc).__name__}"
            rows.append(row)
    from vidstyle.stylize.optimize import OptimizeSettings, OptimizeStylizer

    style = torch.rand(1, 3, 256, 256, device=device)
    content = torch.rand(1, 3, 144, 256, device=device)
    solver = OptimizeStylizer(style, OptimizeSettings(iterations=10, scales=(1.0,)))
    per_iteration = best_ms(lambda: solver.stylize(content), device, warmup=1, repeats=2) / 10
    rows.append({"method": "optimize (Gatys, L-BFGS)", "variant": "eager fp32, per iteration at 256x144",
                 "ms 640x360": per_iteration})
    write_results(f"stylizers_{device.type}", rows, ["method", "variant", "ms 640x360", "ms 1280x720"],
                  device=device_name(device), torch_version=torch.__version__)


if __name__ == "__main__":
    main()
