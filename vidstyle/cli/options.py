"""Options several commands share, declared once (typer ``Annotated`` aliases)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vidstyle.cli.logs import remember_verbose
from vidstyle.config import load_defaults

DEFAULTS = load_defaults()

Style = Annotated[str | None, typer.Option(
    "--style", "-s", help="A preset name (`vidstyle styles list`), an image file, or a blend "
    "NAME:W,NAME:W of presets of one family.")]
Method = Annotated[str, typer.Option(
    help="feedforward: a pretrained network, real time on a GPU. optimize: Gatys/Ruder optimisation, "
    "slow, highest quality.")]
Device = Annotated[str, typer.Option(help="auto picks CUDA, then MPS, then the CPU.")]
MaxSide = Annotated[int | None, typer.Option(
    "--max-side", help="Processing size (long side) in pixels; the output keeps the input size. "
    "Default 640 on CPU, 1280 on CUDA.")]
Strength = Annotated[float, typer.Option(help="0..1: blend of the input (0) and the painting (1).")]
Iterations = Annotated[int | None, typer.Option(help="Optimisation steps per frame (--method optimize).")]
Model = Annotated[Path | None, typer.Option(
    help="A Johnson-style per-style network (pytorch/examples fast_neural_style .pth); replaces --style.")]
PreserveColor = Annotated[bool, typer.Option("--preserve-color", help="Keep the input's colours; "
                                             "transfer only the painting's strokes (luminance).")]
StyleScale = Annotated[float, typer.Option(help="Bigger than 1 paints bigger strokes.")]
Precision = Annotated[str, typer.Option(
    help="Arithmetic of the feed-forward network: auto (bf16 on CPUs with native bf16, else fp32), "
    "fp32, bf16 or fp16 (GPU).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or notices on stderr.")]
Verbose = Annotated[bool, typer.Option("--verbose", help="Show tracebacks of errors.", callback=remember_verbose)]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON summary as the last line of stdout.")]
Output = Annotated[Path, typer.Option("--output", "-o", help="Output file (.mp4 .mov .mkv) or image "
                                      "pattern (out/frame_%05d.png).")]


def emit_json(data: object) -> None:
    """The one JSON object, as the last line of stdout."""
    print(json.dumps(data, separators=(", ", ": ")), flush=True)
