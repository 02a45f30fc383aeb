"""Where vidstyle keeps things, and the TOML files it reads (shipped presets and user presets).

Shipped presets live in ``configs/`` at the top of the repository, installed as ``vidstyle.configs``.
User presets go to ``$XDG_CONFIG_HOME/vidstyle/styles``; downloads to ``$XDG_CACHE_HOME/vidstyle``.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from vidstyle.errors import UserInputError


def user_config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "vidstyle"


def user_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vidstyle"


def shipped_configs() -> Path:
    """``configs/``: installed as ``vidstyle.configs``; in a source checkout (a process started in the
    repository, such as a test's subprocess or a Ray worker, imports the source tree) beside the package."""
    try:
        return Path(str(resources.files("vidstyle.configs")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[1] / "configs"


def shipped_config_files(subfolder: str) -> list[Path]:
    """The ``*.toml`` files of ``configs/<subfolder>``, sorted."""
    return sorted(p for p in (shipped_configs() / subfolder).iterdir() if p.name.endswith(".toml"))


def load_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; a broken file is a one-line UserInputError naming it."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UserInputError(f"cannot read {path}: {exc}") from None


def load_defaults() -> dict[str, Any]:
    """``configs/defaults.toml``: the defaults the CLI shows in --help."""
    return load_toml(shipped_configs() / "defaults.toml")


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in blocks (weights and downloaded paintings are checked with it)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
