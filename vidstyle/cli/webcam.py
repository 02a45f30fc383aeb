"""``vidstyle webcam``: a live stylized camera (window, recording, virtual camera)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from vidstyle.cli.logs import setup_logging
from vidstyle.cli.options import (
    DEFAULTS, Device, Json, MaxSide, Model, PreserveColor, Quiet, Strength, Style, StyleScale, Verbose, bounded,
    emit_json,
)

W = DEFAULTS.get("webcam", {})


def webcam_command(
    style: Style = None,
    model: Model = None,
    camera: Annotated[str | None, typer.Option(help="Camera index (0) or device path (/dev/video2). "
                                               "Default: camera 0.")] = None,
    source: Annotated[Path | None, typer.Option(help="Play a video file as if it were the camera "
                                                "(at its own frame rate).")] = None,
    size: Annotated[str | None, typer.Option(help="Capture size WxH, e.g. 640x360.")] = None,
    target_fps: Annotated[float, typer.Option(help="Adapt the processing size to hold this frame rate "
                                              "(0: fixed size).", callback=bounded(0, 240))
                          ] = W.get("target_fps", 15.0),
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Record what is shown (.mp4 .mov "
                                                ".mkv, H.264).")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing --output.")] = False,
    virtual_cam: Annotated[bool, typer.Option("--virtual-cam", help="Send the frames to a virtual camera "
                                              "(needs pyvirtualcam: pip install 'vidstyle[virtualcam]').")] = False,
    no_window: Annotated[bool, typer.Option("--no-window", help="Show no window (headless).")] = False,
    max_frames: Annotated[int | None, typer.Option(help="Stop after this many frames shown.",
                                                   callback=bounded(1))] = None,
    no_temporal: Annotated[bool, typer.Option("--no-temporal", help="Stylize each frame on its own "
                                              "(flickers; faster).")] = False,
    device: Device = "auto",
    max_side: MaxSide = None,
    strength: Strength = 1.0,
    preserve_color: PreserveColor = False,
    style_scale: StyleScale = 1.0,
    snapshot_dir: Annotated[Path, typer.Option(help="Where the s key saves PNG snapshots.")] = Path("."),
    quiet: Quiet = False,
    verbose: Verbose = False,
    json: Json = False,
) -> None:
    """A live stylized camera: vidstyle webcam --style starry_night

    Keys in the window: n/p next/previous style, t temporal on/off, +/- strength, s snapshot, q quit.
    --max-side caps the processing size, which adapts to hold --target-fps.
    """
    from vidstyle.io.camera import parse_camera, parse_size
    from vidstyle.build import ProcessorSettings
    from vidstyle.stylize.registry import StyleRequest
    from vidstyle.live.session import WebcamSettings, start_webcam

    setup_logging(quiet)
    request = StyleRequest(style=style, model=model, preserve_color=preserve_color, style_scale=style_scale)
    processing = ProcessorSettings(style=request, device=device, temporal=not no_temporal, max_side=max_side,
                                   strength=strength)
    settings = WebcamSettings(processing=processing, camera=None if camera is None else parse_camera(camera),
                              source=source, size=parse_size(size), target_fps=target_fps, output=output,
                              overwrite=overwrite, virtual_cam=virtual_cam, window=not no_window,
                              max_frames=max_frames, snapshot_dir=snapshot_dir)
    result = start_webcam(settings)
    if json:
        emit_json(result.summary)
    elif not quiet:
        s = result.summary
        typer.echo(f"shown {s['frames_shown']} of {s['frames_captured']} frames at {s['fps']:.1f} fps, latency "
                   f"{s['latency_ms_median']:.0f} ms (p95 {s['latency_ms_p95']:.0f})"
                   + (f"; recorded {output}" if output else ""), err=True)
    if result.error is not None:
        raise result.error
    if result.ended_by == "interrupted":
        print("vidstyle: interrupted", file=sys.stderr)
        raise typer.Exit(130)
