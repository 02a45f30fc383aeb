"""Helpers of the reliability tests: the cheapest render arguments, the CLI in-process, outputs."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np

from vidstyle.cli.app import main

# A CIN-26 preset at 64 px, not compiled: every render here takes a fraction of a second.
FAST = ["--style", "muted_soft_photo", "--no-compile", "--max-side", "64", "--quiet"]


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``vidstyle ARGS`` run in this process."""
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def error_line(err: str) -> str:
    """The one ``vidstyle: error:`` line of a failed run (asserts there is exactly one line)."""
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("vidstyle: error: "), lines
    return lines[0]


def summary(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def decoded(path: Path) -> tuple[list[int], list[np.ndarray]]:
    """pts and (H, W, 3) uint8 RGB frames of a video file."""
    with av.open(str(path)) as c:
        frames = list(c.decode(video=0))
    return [f.pts for f in frames], [f.to_ndarray(format="rgb24") for f in frames]
