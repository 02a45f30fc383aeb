"""``vidstyle styles learn``: learn a preset for the CIN-26 network from a painting (minutes on a CPU)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from vidstyle.cli.options import Device, Json, Quiet, Verbose, emit_json
from vidstyle.cli.progress import stderr_progress
from vidstyle.config import user_config_dir
from vidstyle.learn.settings import LearnSettings, StepCallback

DEFAULTS = LearnSettings()


@contextmanager
def step_progress(description: str, quiet: bool) -> Iterator[StepCallback | None]:
    """Yield a ``callback(done, total, loss)`` drawing steps, loss and ETA on stderr, or None when quiet."""
    if quiet:
        yield None
        return
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("steps"),
               TextColumn("loss {task.fields[loss]}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    with stderr_progress(*columns) as progress:
        task = progress.add_task(description, total=None, loss="...")

        def update(done: int, total: int, loss: float) -> None:
            progress.update(task, completed=done, total=total, loss=f"{loss:.4g}")

        yield update


def learn_command(
    name: Annotated[str, typer.Argument(help="Name of the new preset (a-z, 0-9, _).")],
    image: Annotated[Path, typer.Option(help="The painting to learn.")],
    content: Annotated[list[Path] | None, typer.Option(
        help="Videos or image folders to learn on (repeatable); default: the bundled sample.")] = None,
    steps: Annotated[int, typer.Option(help="Optimiser steps (each: a batch of 2 random crops).")] = DEFAULTS.steps,
    size: Annotated[int, typer.Option(help="Crop size in pixels (multiple of 4).")] = DEFAULTS.size,
    from_: Annotated[str | None, typer.Option("--from", help="Start from this cin26 style or learned preset; "
                                              "default: the built-in style nearest the painting.")] = None,
    temporal_weight: Annotated[float, typer.Option(
        help="Weight of a temporal loss on consecutive frames (ReCoNet): a steadier network.")] = 0.0,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted learn of NAME.")] = False,
    device: Device = "auto", json: Json = False, quiet: Quiet = False, verbose: Verbose = False,
) -> None:
    """Learn a new style from a painting: fits only the CIN-26 network's per-style norm parameters
    (Dumoulin et al. 2017), then `--style NAME` works everywhere. Ctrl-C keeps every finished step."""
    from vidstyle.device import resolve_device
    from vidstyle.learn.preset import learn_preset
    from vidstyle.stylize.styles import check_new_preset_name

    out_dir = user_config_dir() / "styles"
    if not (resume and (out_dir / f".{name}.learn.pt").is_file()):
        check_new_preset_name(name)
    settings = LearnSettings(steps=steps, size=size, temporal_weight=temporal_weight)
    with step_progress(f"learning {name}", quiet or json) as on_step:
        result = learn_preset(name, image, out_dir, content=content or (), settings=settings, start=from_,
                              resume=resume, fields={"licence": "yours", "image": str(image.resolve())},
                              device=resolve_device(device), on_step=on_step)
    if json:
        emit_json(result.summary())
    else:
        typer.echo(f"learned {name} from {result.start}: loss {result.loss_first:.4g} -> {result.loss_last:.4g} "
                   f"in {result.seconds:.0f} s ({result.toml})")
