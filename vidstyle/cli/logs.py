"""Where the command line's notices and tracebacks go: logging set-up and the ``--verbose`` flag.

A leaf module (imports nothing of vidstyle's), so every command module can use it without importing
``cli/app.py``.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

import typer


@dataclass
class CliState:
    """What the options of one command line set for ``main``: ``verbose`` shows tracebacks."""

    verbose: bool = False


def remember_verbose(ctx: typer.Context, value: bool) -> bool:
    """Typer option callback: record ``--verbose`` in the context object ``main`` reads after an error."""
    if value:
        ctx.ensure_object(CliState).verbose = True
    return value


def setup_logging(quiet: bool) -> None:
    """Notices (audio transcoding, dropped subtitles) go to stderr unless --quiet."""
    logger = logging.getLogger("vidstyle")
    logger.handlers[:] = []
    if not quiet:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("vidstyle: %(message)s"))
        logger.addHandler(handler)
    else:  # without any handler, logging's last resort would still print warnings
        logger.addHandler(logging.NullHandler())
    logger.setLevel(logging.INFO)
    logger.propagate = False
