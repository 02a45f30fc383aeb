"""Write-then-rename: a file or folder appears at its final path only when it is complete."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def temp_path_for(target: Path) -> Path:
    """A hidden sibling of ``target`` with the same extension (muxers pick the format by extension)."""
    return target.with_name(f".{target.stem}.{uuid.uuid4().hex[:8]}.partial{target.suffix}")


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.unlink()


@contextmanager
def atomic_output(target: Path, *, folder: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` only if the block succeeds.

    ``folder``: the temporary path is an empty folder (replacing any folder already at ``target``).
    On any exception (Ctrl-C included) the temporary file or folder is removed, so nothing half-written
    is left.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(target)
    if folder:
        tmp.mkdir()
    try:
        yield tmp
        if folder and target.is_dir():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        _remove(tmp)
