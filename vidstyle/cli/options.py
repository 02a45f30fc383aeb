"""Options several commands share, declared once (typer ``Annotated`` aliases)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from vidstyle.config import load_defaults

DEFAULTS = load_defaults()


def bounded(low: float | None = None, high: float | None = None, *, above: float | None = None) -> Callable:
    """A typer callback refusing a number outside [low, high] (or not above ``above``), NaN or infinity:
    ``--temporal-weight -5`` is one line and exit 2 (None, an option left out, passes)."""
    def check(value: float | int | None) -> float | int | None:
        if value is None:
            return value
        if not math.isfinite(value):
            raise typer.BadParameter(f"must be a finite number, got {value}")
        if low is not None and high is not None and not low <= value <= high:
            raise typer.BadParameter(f"must be between {low:g} and {high:g}, got {value:g}")
        if above is not None and value <= above:
            raise typer.BadParameter(f"must be more than {above:g}, got {value:g}")
        if low is not None and value < low:
            raise typer.BadParameter(f"must be at least {low:g}, got {value:g}")
        if high is not None and value > high:
            raise typer.BadParameter(f"must be at most {high:g}, got {value:g}")
        return value
    return check


Style = Annotated[str | None, typer.Option(
    "--style", "-s", help="A preset name (`vidstyle styles list`), an image file, or a blend "
    "NAME:W,NAME:W of presets of one family.")]
Method = Annotated[str, typer.Option(
    help="feedforward: a pretrained network, real time on a GPU. optimize: Gatys/Ruder optimisation, "
    "slow, highest quality.")]
Device = Annotated[str, typer.Option(help="auto picks CUDA, then MPS, then the CPU.")]
MaxSide = Annotated[int | None, typer.Option(
    "--max-side", help="Processing size (long side) in pixels; the output keeps the input size. "
    "Default 640 on CPU, 1280 on CUDA.", callback=bounded(32, 16384))]
Strength = Annotated[float, typer.Option(help="0..1: blend of the input (0) and the painting (1).",
                                          callback=bounded(0, 1))]
Iterations = Annotated[int | None, typer.Option(help="Optimisation steps per frame (--method optimize).",
                                                callback=bounded(1, 100_000))]
Model = Annotated[Path | None, typer.Option(
    help="A Johnson-style per-style network (pytorch/examples fast_neural_style .pth); replaces --style.")]
PreserveColor = Annotated[bool, typer.Option("--preserve-color", help="Keep the input's colours; "
                                             "transfer only the painting's strokes (luminance).")]
StyleScale = Annotated[float, typer.Option(help="Bigger than 1 paints bigger strokes (0.1..10).",
                                            callback=bounded(0.1, 10))]
Precision = Annotated[str, typer.Option(
    help="Arithmetic of the feed-forward network: auto (bf16 on CPUs with native bf16, else fp32), "
    "fp32, bf16 or fp16 (GPU).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or notices on stderr.")]
Verbose = Annotated[bool, typer.Option("--verbose", help="Show tracebacks of errors.")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON summary as the last line of stdout.")]
Output = Annotated[Path, typer.Option("--output", "-o", help="Output file (.mp4 .mov .mkv) or image "
                                      "pattern (out/frame_%05d.png).")]


def emit_json(data: object) -> None:
    """The one JSON object, as the last line of stdout."""
    print(json.dumps(data, separators=(", ", ": ")), flush=True)
