"""The ``vidstyle`` command: one module per sub-command; library errors become one line and an exit code.

Exit codes (CONTRACT.md): 0 success; 2 bad input, usage or unavailable resource; 1 internal error;
130 interrupted. ``--verbose`` shows tracebacks.
"""

from __future__ import annotations

import sys
import traceback

import typer
from typer.exceptions import TyperException

from vidstyle.cli import curves, doctor, image, metrics, run, styles, webcam  # each imports torch only when it runs
from vidstyle.cli.logs import CliState
from vidstyle.cli.options import Verbose
from vidstyle.errors import VidstyleError
from vidstyle.openmp import bound_spin_wait

app = typer.Typer(
    name="vidstyle",
    help="Turn a video into a painting that moves without flickering.\n\n"
    "Example: vidstyle run clip.mp4 -o painted.mp4 --style starry_night",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

@app.callback()
def _root(verbose: Verbose = False) -> None:
    """``--verbose`` before the command works too (it is also an option of each command)."""


app.command("run")(run.run_command)
app.command("image")(image.image_command)
app.command("metrics")(metrics.metrics_command)
app.command("doctor")(doctor.doctor_command)
app.add_typer(styles.styles_app, name="styles")
app.command("webcam")(webcam.webcam_command)
app.command("curves")(curves.curves_command)


def optional_values(argv: list[str]) -> list[str]:
    """``--ray`` with no value means ``--ray auto`` (CONTRACT.md: ``--ray [auto|ADDRESS]``); click has
    no option whose value may be left out, so the default is written in before parsing."""
    out: list[str] = []
    for i, arg in enumerate(argv):
        out.append(arg)
        if arg == "--ray" and (i + 1 == len(argv) or argv[i + 1].startswith("-")):
            out.append("auto")
    return out


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns (and exits with) the exit code."""
    bound_spin_wait()  # before any command imports torch
    argv = optional_values(list(sys.argv[1:] if argv is None else argv))
    state = CliState()  # the --verbose option's callback sets it while the command line is parsed
    code = 0
    try:
        app(args=argv, prog_name="vidstyle", standalone_mode=False, obj=state)
    except VidstyleError as exc:
        if state.verbose:
            traceback.print_exc()
        print(f"vidstyle: error: {exc}", file=sys.stderr)
        code = exc.exit_code
    except typer.Exit as exc:
        code = exc.exit_code
    except TyperException as exc:  # usage errors: unknown option, missing argument (exit 2)
        print(f"vidstyle: error: {exc.format_message()} (see `vidstyle --help`)", file=sys.stderr)
        code = exc.exit_code if exc.exit_code else 2
    except (KeyboardInterrupt, typer.Abort):
        print("vidstyle: interrupted", file=sys.stderr)
        code = 130
    except Exception as exc:  # an internal error: one line, the traceback only with --verbose
        if state.verbose:
            traceback.print_exc()
        print(f"vidstyle: error: internal error: {type(exc).__name__}: {exc} (run with --verbose for details)",
              file=sys.stderr)
        code = 1
    if code:
        sys.exit(code)
    return 0


if __name__ == "__main__":
    main()
