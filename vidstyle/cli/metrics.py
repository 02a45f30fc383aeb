"""``vidstyle metrics``: how much a stylized video flickers, and how much it looks like the painting."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vidstyle.cli.options import Json, Verbose, bounded, emit_json


def metrics_command(
    input: Annotated[Path, typer.Argument(help="The original video (flow and masks come from it).",
                                          show_default=False)],
    output: Annotated[Path, typer.Argument(help="The stylized video.", show_default=False)],
    style: Annotated[Path | None, typer.Option(help="The style image, for style/content distances.")] = None,
    max_frames: Annotated[int, typer.Option(help="Frames to measure.", callback=bounded(1))] = 60,
    verbose: Verbose = False,
    json: Json = False,
) -> None:
    """Warping error of OUTPUT (flow from INPUT), the input's own (the floor), their ratio, and
    VGG19 style/content distances; definitions in CONTRACT.md."""
    from vidstyle.metrics import measure

    result = measure(input, output, style=style, max_frames=max_frames)
    if json:
        emit_json(result)
        return
    typer.echo(f"frames             {result['frames']}")
    typer.echo(f"warp error         {result['warp_error']:.6f}")
    typer.echo(f"input warp error   {result['warp_error_input']:.6f}")
    typer.echo(f"ratio to input     {result['ratio_to_input']:.2f}x")
    if style is not None:
        typer.echo(f"style distance     {result['style_distance']:.4g}")
        typer.echo(f"content distance   {result['content_distance']:.4g}")
    typer.echo(f"flow {result['flow']}; mask {result['mask']}")
