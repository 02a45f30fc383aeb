"""``vidstyle styles``: list, show, add, fetch and compare the named styles."""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vidstyle.cli.learn import learn_command
from vidstyle.cli.options import Device, Json, Verbose, emit_json
from vidstyle.config import sha256_file, user_config_dir
from vidstyle.errors import ResourceUnavailableError, UserInputError

if TYPE_CHECKING:  # numpy, OpenCV, torch and the presets load when a command runs, not for a --help
    import numpy as np

styles_app = typer.Typer(help="Named styles: list, show, add or learn your own, fetch a painting, contact sheet.",
                         no_args_is_help=True, rich_markup_mode=None)
styles_app.command("learn")(learn_command)


@styles_app.command("list")
def list_command(json: Json = False, verbose: Verbose = False) -> None:
    """List every preset: painting presets (any method) and the 26 built-in network styles."""
    from vidstyle.stylize.styles import all_presets

    presets = [p.describe() for p in all_presets().values()]
    if json:
        emit_json(presets)
        return
    for p in presets:
        credit = f"{p['artist']}, {p['title']} ({p['year']})" if p["artist"] and p["year"] else p["title"]
        typer.echo(f"{p['name']:<30}{p['family']:<9}{credit}")


@styles_app.command("show")
def show_command(name: str, verbose: Verbose = False) -> None:
    """Everything known about one preset, and whether its painting is on this machine."""
    from vidstyle.stylize.styles import find_preset

    p = find_preset(name)
    for key, value in p.describe().items():
        typer.echo(f"{key:<12}{value}")
    if p.source_url:
        typer.echo(f"{'source':<12}{p.source_url}")
        typer.echo(f"{'sha256':<12}{p.sha256}")
    painting = p.painting_path()
    typer.echo(f"{'painting':<12}{painting if painting else 'not here (vidstyle styles fetch ' + name + ')'}")


@styles_app.command("add")
def add_command(name: str, image: Annotated[Path, typer.Option(help="The painting.")],
                device: Device = "auto", verbose: Verbose = False) -> None:
    """Save a painting as your own preset (in the user config folder)."""
    from vidstyle.device import resolve_device
    from vidstyle.io.reader import read_image
    from vidstyle.stylize.feedforward import StyleVectorComputer
    from vidstyle.stylize.styles import MAGENTA, check_new_preset_name, write_preset

    check_new_preset_name(name)
    vector = StyleVectorComputer(resolve_device(device))(read_image(image))[0].tolist()
    target = user_config_dir() / "styles" / f"{name}.toml"
    write_preset(target, {"name": name, "family": MAGENTA, "title": image.name, "licence": "yours",
                          "image": str(image.resolve()), "sha256": sha256_file(image), "vector": vector})
    typer.echo(f"added {name} ({target})")


def fetch_painting(name: str, url: str | None = None, timeout: float = 30.0) -> Path:
    """Download a preset's painting into the user cache, checking its sha256; returns the path."""
    from vidstyle.io.atomic import atomic_output
    from vidstyle.stylize.styles import find_preset, painting_cache_path

    p = find_preset(name)
    if not (url or p.source_url):
        raise UserInputError(f"{name} has no painting to download (it is a built-in network style)")
    target = painting_cache_path(name)
    if target.is_file() and sha256_file(target) == p.sha256:
        return target
    with atomic_output(target) as tmp:
        try:
            with urllib.request.urlopen(url or p.source_url, timeout=timeout) as response, open(tmp, "wb") as f:
                shutil.copyfileobj(response, f)
        except (urllib.error.URLError, OSError) as exc:
            raise ResourceUnavailableError(f"cannot download {url or p.source_url}: {exc}") from None
        if p.sha256 and sha256_file(tmp) != p.sha256:
            raise ResourceUnavailableError(f"the download of {name} does not match its sha256; not kept")
    return target


@styles_app.command("fetch")
def fetch_command(name: str, url: Annotated[str | None, typer.Option(help="Download from here instead "
                                                                       "(a mirror); sha256 still checked.")] = None,
                  verbose: Verbose = False) -> None:
    """Download a preset's public-domain painting (needed by --method optimize), on request only."""
    typer.echo(f"fetched {name} -> {fetch_painting(name, url)}")


@styles_app.command("sheet")
def sheet_command(image: Annotated[Path, typer.Argument(help="A picture to paint with every preset.")],
                  output: Annotated[Path, typer.Option("--output", "-o", help="The sheet (.png).")],
                  tile: Annotated[int, typer.Option(help="Tile width in pixels.")] = 256,
                  device: Device = "auto", verbose: Verbose = False) -> None:
    """A contact sheet of all presets on one image, labelled, to help choose."""
    import cv2
    import torch

    from vidstyle.device import resolve_device
    from vidstyle.io.reader import read_image
    from vidstyle.processor import FrameProcessor
    from vidstyle.stylize.registry import StyleRequest, build_stylizer
    from vidstyle.stylize.styles import all_presets

    dev = resolve_device(device)
    picture = read_image(image)
    h = int(round(picture.shape[0] * tile / picture.shape[1] / 4)) * 4
    picture = cv2.resize(picture, (tile, h), interpolation=cv2.INTER_AREA)
    tiles = [("original", picture)]
    with torch.no_grad():
        for name in all_presets():
            processor = FrameProcessor(build_stylizer(StyleRequest(style=name), dev), None, max_side=tile)
            tiles.append((name, processor.process(picture)))
    write_sheet(tiles, output)
    typer.echo(f"wrote {output} ({len(tiles) - 1} styles)")


def write_sheet(tiles: list[tuple[str, np.ndarray]], output: Path, columns: int = 6) -> None:
    """Grid of labelled (H, W, 3) uint8 RGB tiles of one size, written atomically as PNG."""
    import cv2
    import numpy as np

    from vidstyle.io.writer import write_image

    h, w = tiles[0][1].shape[:2]
    rows = -(-len(tiles) // columns)
    label = 18
    sheet = np.full((rows * (h + label), columns * w, 3), 255, np.uint8)
    for i, (name, image) in enumerate(tiles):
        r, c = divmod(i, columns)
        y, x = r * (h + label), c * w
        sheet[y + label:y + label + h, x:x + w] = image
        cv2.putText(sheet, name[:34], (x + 3, y + 13), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 0, 0), 1, cv2.LINE_AA)
    write_image(output, sheet)
