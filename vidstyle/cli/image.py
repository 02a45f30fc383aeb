"""``vidstyle image``: stylize one picture (every method), written atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import torch
import typer

from vidstyle.build import ProcessorSettings, build_processor
from vidstyle.cli.app import setup_logging
from vidstyle.cli.options import (
    Device, Iterations, Json, MaxSide, Method, Model, Output, Precision, PreserveColor, Quiet, Strength, Style,
    StyleScale, Verbose, emit_json,
)
from vidstyle.device import describe
from vidstyle.files import check_output
from vidstyle.io.reader import read_image
from vidstyle.io.writer import write_image
from vidstyle.stylize.registry import StyleRequest

IMAGE_MAX_SIDE = 1024  # a still is worth more pixels than a video frame


def stylize_image(input: Path, settings: ProcessorSettings) -> tuple:
    """(H, W, 3) uint8 RGB stylized picture and the torch device used (no temporal filter)."""
    image = read_image(input)
    built = build_processor(settings)
    return built.processor.process(image), built.device


def image_command(
    input: Annotated[Path, typer.Argument(help="The picture to paint.", show_default=False)],
    output: Output,
    style: Style = None,
    model: Model = None,
    method: Method = "feedforward",
    device: Device = "auto",
    max_side: MaxSide = None,
    iterations: Iterations = None,
    strength: Strength = 1.0,
    preserve_color: PreserveColor = False,
    style_scale: StyleScale = 1.0,
    precision: Precision = "auto",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing output.")] = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
    json: Json = False,
) -> None:
    """Stylize one image: vidstyle image photo.jpg -o painted.png --style the_wave

    --max-side defaults to 1024 here (long side).
    """
    setup_logging(quiet)
    check_output(input, output, overwrite)
    request = StyleRequest(style=style, method=method, model=model, iterations=iterations,
                           preserve_color=preserve_color, style_scale=style_scale)
    settings = ProcessorSettings(style=request, device=device, temporal=False, max_side=max_side or IMAGE_MAX_SIDE,
                                 strength=strength, precision=precision)
    with torch.no_grad():
        painted, dev = stylize_image(input, settings)
    write_image(output, painted)
    if json:
        emit_json({"input": str(input), "output": str(output), "method": method, "device": describe(dev),
                   "style": request.label, "width": painted.shape[1], "height": painted.shape[0]})
