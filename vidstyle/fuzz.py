"""Damaged inputs on purpose: a seeded generator of broken files from generated clips, a runner that
feeds them to ``vidstyle run`` with a time limit, and the judge of what came out.

Each case must end in exit 0 with a playable output, or exit 2 with one line on stderr and nothing at
the output path (a work folder only when the line says it is kept for ``--resume``), within the limit.
Used by ``tests/reliability/test_fuzz.py`` (a few dozen cases) and ``benchmarks/fuzz.py`` (thousands).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import select
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from vidstyle.synth import synth_frames, write_clip

STYLE = "muted_soft_photo"  # a CIN-26 preset: cheap, and every case paints with the same network
BASE_ARGS = ("--style", STYLE, "--no-compile", "--max-side", "64", "--quiet", "--json", "--segment-frames", "4")
# damage kind -> which base input it starts from
KINDS: dict[str, str] = {
    "truncate": "video", "truncate_header": "video", "flip_1": "video", "flip_10": "video", "flip_100": "video",
    "zero_range": "video", "header": "video", "empty": "none", "random_bytes": "none", "text": "none",
    "png_as_mp4": "none", "audio_only": "audio", "bad_metadata": "metadata", "seq_hole": "sequence",
    "seq_truncated_frame": "sequence", "seq_garbage_frame": "sequence", "clean": "video",
}
VIDEO_BASES = ("clip.mp4", "faststart.mp4", "clip.mkv", "clip.mov")
OUTPUTS = ("out.mp4", "out.mkv", "frames/f_%04d.png")


@dataclass(frozen=True)
class Case:
    """One damaged input and the command line that renders it."""

    index: int
    folder: Path
    kind: str
    base: str
    input: Path
    output: Path
    args: tuple[str, ...]

    @property
    def argv(self) -> list[str]:
        return ["run", str(self.input), "-o", str(self.output), *BASE_ARGS, *self.args]


@dataclass
class Outcome:
    """What the CLI did: exit code (None: killed after the time limit), stdout, stderr."""

    code: int | None
    stdout: str = ""
    stderr: str = ""
    problems: list[str] = field(default_factory=list)


def make_bases(folder: Path) -> dict[str, Path]:
    """The clean inputs every case damages: 12 frames of 64x48 with audio in four containers, an
    audio-only file, a clip with a title tag, a PNG sequence."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = synth_frames(12, 64, 48, seed=5)
    bases = {name: write_clip(folder / name, frames, fps=12) for name in ("clip.mp4", "clip.mov")}
    # bit-exact: the Matroska muxer otherwise writes a random segment id, and a seed would not give one file
    raw = write_clip(folder / "raw.mkv", frames, fps=12)
    bases["clip.mkv"] = _remux(raw, folder / "clip.mkv", {"fflags": "+bitexact"})
    bases["faststart.mp4"] = _remux(bases["clip.mp4"], folder / "faststart.mp4", {"movflags": "+faststart"})
    bases["audio.m4a"] = _remux(bases["clip.mp4"], folder / "audio.m4a", {}, video=False)
    bases["titled.mp4"] = _remux(bases["clip.mp4"], folder / "titled.mp4", {}, title="VIDSTYLE-TITLE-TAG")
    seq = folder / "seq"
    seq.mkdir(exist_ok=True)
    for i, image in enumerate(frames[:8]):
        cv2.imwrite(str(seq / f"frame_{i + 1:04d}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    bases["sequence"] = seq
    return bases


def _remux(src: Path, dst: Path, options: dict, *, video: bool = True, title: str | None = None) -> Path:
    import av

    with av.open(str(src)) as i, av.open(str(dst), "w", options=options) as o:
        streams = {s.index: o.add_stream_from_template(s) for s in i.streams if video or s.type == "audio"}
        if title:
            o.metadata["title"] = title
        for packet in i.demux(*[i.streams[k] for k in streams]):
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream.index]
            o.mux(packet)
    return dst


def _damage(kind: str, data: bytes, rng: np.random.Generator) -> bytes:
    """``data`` broken as ``kind`` says (byte-level kinds only)."""
    d = bytearray(data)
    if kind == "truncate":
        return bytes(d[:int(len(d) * rng.uniform(0.05, 0.97))])
    if kind == "truncate_header":
        return bytes(d[:int(rng.integers(1, min(2000, len(d))))])
    if kind.startswith("flip_"):
        for i in rng.integers(0, len(d), int(kind[5:])):
            d[i] ^= int(rng.integers(1, 256))
    elif kind == "zero_range":
        start, length = int(rng.integers(0, len(d))), int(rng.integers(16, 4096))
        d[start:start + length] = bytes(len(d[start:start + length]))
    elif kind == "header":
        for i in rng.integers(0, min(256, len(d)), 8):
            d[i] ^= int(rng.integers(1, 256))
    elif kind == "bad_metadata":
        d = bytearray(bytes(d).replace(b"VIDSTYLE-TITLE-TAG", b"\xff\xfe\xc3(VIDSTYLE\x80\xff\xfeTITLE"[:18]))
    return bytes(d)


def make_case(index: int, seed: int, bases: dict[str, Path], folder: Path) -> Case:
    """Case ``index`` of the ``seed`` series: a damaged copy of a base input in ``folder/in``, an
    output in ``folder/out`` (both fresh)."""
    rng = np.random.default_rng([seed, index])
    kind = list(KINDS)[index % len(KINDS)]
    src = KINDS[kind]
    case_dir = folder / f"case{index:05d}"
    shutil.rmtree(case_dir, ignore_errors=True)
    (case_dir / "in").mkdir(parents=True)
    (case_dir / "out").mkdir()
    base = str(rng.choice(VIDEO_BASES)) if src == "video" else src
    suffix = Path(base).suffix or ".mp4"
    target = case_dir / "in" / f"input{suffix}"
    if src == "video":
        target.write_bytes(_damage(kind, bases[base].read_bytes(), rng))
    elif src == "metadata":
        target.write_bytes(_damage(kind, bases["titled.mp4"].read_bytes(), rng))
    elif src == "audio":
        target.write_bytes(bases["audio.m4a"].read_bytes())
    elif src == "sequence":
        target = _damaged_sequence(kind, bases["sequence"], case_dir / "in" / "seq", rng)
    else:
        target.write_bytes({"empty": b"", "random_bytes": rng.bytes(int(rng.integers(1, 20000))),
                            "text": b"this is not a video\n" * 40,
                            "png_as_mp4": cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))[1].tobytes()}[kind])
    output = case_dir / "out" / str(rng.choice(OUTPUTS))
    args: list[str] = []
    if rng.random() < 0.6:
        args.append("--no-temporal")
    if rng.random() < 0.15:
        args.append("--strict")
    return Case(index, case_dir, kind, base, target, output, tuple(args))


def _damaged_sequence(kind: str, clean: Path, folder: Path, rng: np.random.Generator) -> Path:
    shutil.copytree(clean, folder)
    frames = sorted(folder.iterdir())
    victim = frames[int(rng.integers(1, len(frames) - 1))]
    if kind == "seq_hole":
        victim.unlink()
    elif kind == "seq_truncated_frame":
        victim.write_bytes(victim.read_bytes()[:int(rng.integers(8, 200))])
    else:
        victim.write_bytes(rng.bytes(300))
    return folder / "frame_%04d.png"


def judge(case: Case, outcome: Outcome) -> list[str]:
    """What is wrong with ``outcome`` (empty when the case ended as it must)."""
    problems = []
    err_lines = [line for line in outcome.stderr.strip().splitlines() if line.strip()]
    out_dir = case.folder / "out"
    if outcome.code is None:
        return ["hang: killed after the time limit"]
    if "Traceback" in outcome.stderr:
        problems.append("traceback on stderr")
    if outcome.code == 0:
        problems += _check_output(case, outcome)
    elif outcome.code == 2:
        if len(err_lines) != 1 or not err_lines[0].startswith("vidstyle: error: "):
            problems.append(f"exit 2 without exactly one error line: {err_lines}")
        left = [p for p in out_dir.rglob("*") if p.is_file()]
        kept = "--resume" in outcome.stderr
        stray = [p for p in left if not (kept and ".vidstyle-work" in str(p))]
        if stray:
            problems.append(f"files left after a failure: {[str(p.relative_to(out_dir)) for p in stray]}")
    else:
        problems.append(f"exit {outcome.code}: {err_lines[-1:]}")
    return problems


def _check_output(case: Case, outcome: Outcome) -> list[str]:
    """A successful render: the JSON summary and a playable output with that many frames."""
    import av

    try:
        summary = json.loads(outcome.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return ["exit 0 without the JSON summary"]
    if "%" in case.output.name:
        found = len(list(case.output.parent.glob("f_*.png")))
    else:
        try:
            with av.open(str(case.output)) as c:
                found = sum(1 for _ in c.decode(video=0))
        except Exception as exc:  # noqa: BLE001 - any failure to play is the finding
            return [f"output does not play: {type(exc).__name__}: {exc}"]
    if found != summary["frames"] or found == 0:
        return [f"output holds {found} frames, the summary says {summary['frames']}"]
    return []


def serve() -> None:
    """Child process (``python -m vidstyle.fuzz``): read one JSON argument list a line from stdin, run it
    through the CLI in-process, answer one JSON line ``[code, stdout, stderr]``."""
    import torch

    from vidstyle.cli.app import main

    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever native code prints cannot mix into the answers
    torch.set_num_threads(1)
    for line in sys.stdin:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(json.loads(line))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
        answers.write(json.dumps([code, out.getvalue(), err.getvalue()]) + "\n")
        answers.flush()


class CaseRunner:
    """Runs CLI argument lists in a child process that imports vidstyle once; a case past the time
    limit kills the child (a hang) and the next case starts a fresh one."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None

    def _start(self) -> None:
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        self._proc = subprocess.Popen([sys.executable, "-m", "vidstyle.fuzz"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)

    def run(self, argv: list[str], timeout: float) -> Outcome:
        if self._proc is None or self._proc.poll() is not None:
            self._start()
            timeout += 60  # the first case pays for importing torch and loading the network
        self._proc.stdin.write(json.dumps(argv) + "\n")
        self._proc.stdin.flush()
        ready, _, _ = select.select([self._proc.stdout], [], [], timeout)
        if ready:
            line = self._proc.stdout.readline()
            if line:
                return Outcome(*json.loads(line))
            self._proc = None  # the child died (a crash in native code)
            return Outcome(-1, "", "the child process died")
        self.close()
        return Outcome(None)

    def close(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
        self._proc = None


def run_case(runner: CaseRunner, case: Case, timeout: float = 60.0) -> Outcome:
    """Render one case and judge it (``outcome.problems``)."""
    outcome = runner.run(case.argv, timeout)
    outcome.problems = judge(case, outcome)
    return outcome


if __name__ == "__main__":
    serve()
