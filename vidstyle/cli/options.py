"""Options several commands share, declared once (typer ``Annotated`` aliases)."""

from __future__ import annotations

import functools
import inspect
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from vidstyle.cli.logs import remember_verbose
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
Init = Annotated[str | None, typer.Option(
    "--init", help="--method optimize: what each frame's solve starts from. content (default): the frame, "
    "coarse to fine; feedforward: the style's network painting, full size only (keeps more of the network's "
    "look; no faster to the same loss); random: noise, coarse to fine.",
    show_default=False)]
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
Verbose = Annotated[bool, typer.Option("--verbose", help="Show tracebacks of errors.", callback=remember_verbose)]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON summary as the last line of stdout.")]
Output = Annotated[Path, typer.Option("--output", "-o", help="Output file (.mp4 .mov .mkv) or image "
                                      "pattern (out/frame_%05d.png).")]


def emit_json(data: object) -> None:
    """The one JSON object, as the last line of stdout."""
    print(json.dumps(data, separators=(", ", ": ")), flush=True)


# Schedules, audio, VFX (CONTRACT.md): shared by `run` and `curves` through with_controls().
SCHEDULE = ', or a schedule "K:(V), K:(V)" (keys: frames 48, seconds 2.5s, beats 8b)'
StrengthSchedule = Annotated[str, typer.Option(
    "--strength", help="0..1: blend of the input (0) and the painting (1)" + SCHEDULE + ".")]
TemporalWeightSchedule = Annotated[str | None, typer.Option(
    "--temporal-weight", help="How strongly the previous frame constrains the next (default 20 feed-forward, "
    "30 optimize; 0 = per frame)" + SCHEDULE + ".")]
StyleScaleSchedule = Annotated[str, typer.Option(
    "--style-scale", help="Bigger than 1 paints bigger strokes" + SCHEDULE + ".")]
StylePerShot = Annotated[str | None, typer.Option(
    "--style-per-shot", help="A,B,C: presets given to the shots (found at scene cuts) in turn.")]
Interp = Annotated[str, typer.Option(help="Between schedule keys: linear, cubic (eased for styles) or step.")]
AudioReact = Annotated[list[str] | None, typer.Option(
    "--audio-react", help="TARGET:FEATURE[:GAIN], repeatable. TARGET strength, style-scale, temporal-weight or "
    "blend (the second preset's weight in --style A,B); FEATURE rms, onset, beat, low, mid or high.")]
ReactRange = Annotated[list[str] | None, typer.Option(
    "--react-range", help="LO,HI: the values at silence and at the loudest hit; one for all --audio-react "
    "or one each (default strength 0,1; style-scale 0.5,2; temporal-weight 20,2; blend 0,1).")]
ReactThreshold = Annotated[float, typer.Option(help="Ignore the feature below this level (0..1).")]
ReactAttack = Annotated[float, typer.Option(help="Seconds the value rises before a hit (offline: no lag).")]
ReactRelease = Annotated[float, typer.Option(help="Seconds the value takes to fall after a hit.")]
ReactSmooth = Annotated[float, typer.Option(help="Zero-phase smoothing time constant in seconds.")]
Bpm = Annotated[float | None, typer.Option(help="Tempo for beat keys (8b); default: tracked in the audio.")]
Matte = Annotated[str | None, typer.Option(
    help="PATTERN of matte images or 'alpha': paint only inside the matte; outside stays the input.")]
Fps = Annotated[float, typer.Option(help="Frame rate of image-sequence input.",
                                    callback=bounded(high=1000, above=0))]
Start = Annotated[str | None, typer.Option(help="Start time: seconds or HH:MM:SS.mmm.")]
End = Annotated[str | None, typer.Option(help="End time: seconds or HH:MM:SS.mmm.")]
MaxFrames = Annotated[int | None, typer.Option(help="Stop after this many frames (trial runs).",
                                               callback=bounded(1))]


_CONTROLS = (  # (parameter, option, default)
    ("strength", StrengthSchedule, str(DEFAULTS["run"]["strength"])), ("temporal_weight", TemporalWeightSchedule, None),
    ("style_scale", StyleScaleSchedule, "1.0"), ("style_per_shot", StylePerShot, None), ("interp", Interp, "linear"),
    ("audio_react", AudioReact, None), ("react_range", ReactRange, None), ("react_threshold", ReactThreshold, 0.0),
    ("react_attack", ReactAttack, 0.0), ("react_release", ReactRelease, 0.2), ("react_smooth", ReactSmooth, 0.0),
    ("bpm", Bpm, None), ("matte", Matte, None),
)


def with_controls(command: Callable[..., None]) -> Callable[..., None]:
    """Give a typer command the schedule, audio-react and matte options (CONTRACT.md "Schedules, audio,
    VFX"); the command receives them, with its ``--style``, as one validated ``controls: ControlSpec``
    (a malformed schedule exits 2 before the command runs)."""
    from vidstyle.audio.spec import Envelope
    from vidstyle.schedule.spec import ControlSpec

    signature = inspect.signature(command, eval_str=True)
    kept = [p for p in signature.parameters.values() if p.name != "controls"]
    added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=option)
             for name, option, default in _CONTROLS]

    @functools.wraps(command)
    def wrapper(*args: object, **kwargs: object) -> None:
        o = {name: kwargs.pop(name) for name, _, _ in _CONTROLS}
        controls = ControlSpec(
            strength=o["strength"], temporal_weight=o["temporal_weight"], style_scale=o["style_scale"],
            style=kwargs.get("style"), style_per_shot=o["style_per_shot"], interp=o["interp"],
            audio_react=tuple(o["audio_react"] or ()), react_range=tuple(o["react_range"] or ()),
            envelope=Envelope(o["react_threshold"], o["react_attack"], o["react_release"], o["react_smooth"]),
            bpm=o["bpm"], matte=o["matte"])
        command(*args, controls=controls, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=kept + added)  # type: ignore[attr-defined]
    return wrapper
