"""``vidstyle curves``: the per-frame values a render would use, as JSON, CSV or a plot, before rendering."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vidstyle.cli.logs import setup_logging
from vidstyle.cli.options import (
    DEFAULTS, End, Fps, Json, MaxFrames, Quiet, Start, Style, Verbose, emit_json, with_controls,
)
from vidstyle.errors import UserInputError
from vidstyle.schedule.spec import ControlSpec

R = DEFAULTS["run"]


@with_controls
def curves_command(
    input: Annotated[Path, typer.Argument(help="Video file, image pattern or folder of numbered images.",
                                          show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="curves.json, curves.csv or curves.png.")],
    style: Style = None,
    fps: Fps = R["fps"],
    start: Start = None,
    end: End = None,
    max_frames: MaxFrames = None,
    quiet: Quiet = False,
    verbose: Verbose = False,
    json: Json = False,
    *,
    controls: ControlSpec,
) -> None:
    """Preview schedules and audio reactions: vidstyle curves clip.mp4 --audio-react strength:onset -o c.png"""
    from vidstyle.audio.decode import decode_audio
    from vidstyle.io.reader import parse_time
    from vidstyle.schedule.export import write_curves
    from vidstyle.schedule.timeline import probe_timeline
    from vidstyle.schedule.track import build_track

    setup_logging(quiet)
    if output.resolve() == input.resolve():
        raise UserInputError(f"the output {output} is the input")
    timeline = probe_timeline(input, fps=fps, start=parse_time(start), end=parse_time(end), max_frames=max_frames)
    track = build_track(controls, timeline)
    waveform = None
    if output.suffix.lower() == ".png" and timeline.has_audio:
        waveform = decode_audio(input).between(timeline.origin, timeline.source_times[-1] + 1.0 / timeline.fps)
    write_curves(track, output, waveform)
    if json:
        emit_json({"output": str(output), "fps": track.fps, "frames": track.frames, "curves": list(track.curves),
                   "tempo": track.tempo, **controls.fingerprint()})
    elif not quiet:
        typer.echo(f"wrote {output}: {len(track.curves)} curves over {track.frames} frames", err=True)
