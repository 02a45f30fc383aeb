"""Sixty damaged inputs (seeded: truncations, flipped bytes, zeroed ranges, header damage, wrong
extensions, audio only, bad metadata, sequences with holes) through ``vidstyle run`` in a child
process: exit 0 with a playable output, or exit 2 with one line and nothing at the output path, no hang.
``benchmarks/fuzz.py`` runs thousands of the same cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidstyle.fuzz import KINDS, CaseRunner, make_bases, make_case, run_case

from clitools import FAST, decoded, run_cli, summary

CASES = 60
SEED = 2024
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    return make_bases(tmp_path_factory.mktemp("fuzz-bases"))


@pytest.fixture(scope="module")
def runner():
    r = CaseRunner()
    yield r
    r.close()


def test_every_kind_is_covered():
    assert CASES >= 3 * len(KINDS)


@pytest.mark.parametrize("index", range(CASES))
def test_damaged_input(index, bases, runner, tmp_path):
    case = make_case(index, SEED, bases, tmp_path)
    outcome = run_case(runner, case, timeout=60)
    assert outcome.problems == [], (case.kind, case.base, case.argv[3:], outcome.stderr[-500:])


def test_audio_timestamps_going_back(tmp_path, capsys):
    """Found by benchmarks/fuzz.py (seed 0, case 514): flipped bytes in an MKV sent audio timestamps back,
    which the MP4 muxer refused (exit 1 "internal error"); such packets are now dropped, as ffmpeg does."""
    out = tmp_path / "out.mp4"
    code, stdout, err = run_cli(["run", DATA / "audio_timestamps_back.mkv", "-o", out, *FAST, "--json",
                                 "--segment-frames", "4"], capsys)
    assert code == 0, err
    assert len(decoded(out)[0]) == summary(stdout)["frames"] > 0


def test_audio_headers_too_damaged_to_mux(bases, tmp_path, capsys):
    """Found by benchmarks/fuzz.py (seed 0, case 956): flipped bytes in an MP4's AAC headers made the MKV
    muxer refuse the audio (exit 1 "internal error"); the output now has the video only, with a warning."""
    import av

    case = make_case(956, 0, bases, tmp_path)
    argv = [a for a in case.argv if a != "--quiet"]
    code, stdout, err = run_cli(argv, capsys)
    assert code == 0, err
    assert "too damaged to copy" in err
    out = Path(argv[argv.index("-o") + 1])
    assert len(decoded(out)[0]) == summary(stdout)["frames"] > 0
    with av.open(str(out)) as c:
        assert not c.streams.audio
