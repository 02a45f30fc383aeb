"""``vidstyle image``: stylize one picture (every method), written atomically."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vidstyle.cli.logs import setup_logging
from vidstyle.cli.options import (
    Device, Init, Iterations, Json, MaxSide, Method, Model, Output, Precision, PreserveColor, Quiet, Strength, Style,
    StyleScale, Verbose, emit_json,
)

if TYPE_CHECKING:  # torch, OpenCV and the networks load when the command runs, not for a --help
    from vidstyle.build import ProcessorSettings

IMAGE_MAX_SIDE = 1024  # a still is worth more pixels than a video frame


def stylize_image(input: Path, settings: ProcessorSettings) -> tuple:
    """(H, W, 3) uint8 RGB stylized picture and the torch device used (no temporal filter)."""
    from vidstyle.io.reader import read_image
    from vidstyle.build import build_processor

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
    init: Init = None,
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
    import torch

    from vidstyle.device import describe
    from vidstyle.io.writer import write_image
    from vidstyle.build import ProcessorSettings
    from vidstyle.stylize.registry import StyleRequest

    from vidstyle.files import check_output

    setup_logging(quiet)
    check_output(input, output, overwrite)
    request = StyleRequest(style=style, method=method, model=model, iterations=iterations,
                           preserve_color=preserve_color, style_scale=style_scale, init=init)
    settings = ProcessorSettings(style=request, device=device, temporal=False, max_side=max_side or IMAGE_MAX_SIDE,
                                 strength=strength, precision=precision)
    with torch.no_grad():
        painted, dev = stylize_image(input, settings)
    write_image(output, painted)
    if json:
        emit_json({"input": str(input), "output": str(output), "method": method, "device": describe(dev),
                   "style": request.label, "width": painted.shape[1], "height": painted.shape[0]})
