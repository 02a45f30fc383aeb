"""The command line's own behaviour: --verbose through the typer context, progress bookkeeping."""

from __future__ import annotations

import pytest

from vidstyle.cli.app import main, optional_values
from vidstyle.cli.progress import FrameProgress


def _run(args: list[str], capsys) -> tuple[int, str]:
    try:
        code = main(args)
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize("verbose_first", [False, True])
def test_verbose_before_or_after_the_command_shows_the_traceback(tmp_path, capsys, verbose_first):
    args = ["run", str(tmp_path / "none.mp4"), "-o", str(tmp_path / "o.mp4"), "--style", "udnie"]
    code, err = _run(["--verbose", *args] if verbose_first else [*args, "--verbose"], capsys)
    assert code == 2 and "Traceback" in err and err.strip().endswith("input not found: " + str(tmp_path / "none.mp4"))


def test_without_verbose_one_line(tmp_path, capsys):
    code, err = _run(["run", str(tmp_path / "none.mp4"), "-o", str(tmp_path / "o.mp4"), "--style", "udnie"], capsys)
    assert code == 2 and err.strip().splitlines() == [f"vidstyle: error: input not found: {tmp_path / 'none.mp4'}"]


def test_verbose_does_not_leak_into_the_next_command_line(tmp_path, capsys):
    _run(["--verbose", "run", str(tmp_path / "a.mp4"), "-o", str(tmp_path / "o.mp4"), "--style", "udnie"], capsys)
    code, err = _run(["run", str(tmp_path / "b.mp4"), "-o", str(tmp_path / "o.mp4"), "--style", "udnie"], capsys)
    assert code == 2 and "Traceback" not in err


def test_usage_error_exit_2(capsys):
    code, err = _run(["run", "--no-such-option"], capsys)
    assert code == 2 and err.startswith("vidstyle: error:")


def test_progress_records_the_first_frame_once_and_draws_nothing_when_quiet(capsys):
    progress = FrameProgress("painting", quiet=True)
    assert progress.first_frame_seconds is None
    progress(1, 3)
    first = progress.first_frame_seconds
    progress(2, 3)
    progress.stop()
    assert first is not None and first >= 0 and progress.first_frame_seconds == first
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("argv, expected", [
    (["run", "a.mp4", "--ray"], ["run", "a.mp4", "--ray", "auto"]),
    (["run", "a.mp4", "--ray", "--json"], ["run", "a.mp4", "--ray", "auto", "--json"]),
    (["run", "a.mp4", "--ray", "10.0.0.5:6379"], ["run", "a.mp4", "--ray", "10.0.0.5:6379"]),
    (["run", "a.mp4"], ["run", "a.mp4"]),
])
def test_ray_without_a_value_means_auto(argv, expected):
    assert optional_values(argv) == expected
