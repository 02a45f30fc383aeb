"""Errors the library raises. The CLI turns each into one line on stderr and an exit code.

Messages say what arrived, e.g. ``flow must be (B, 2, H, W), got (1, 3, 64, 64)``.
"""

from __future__ import annotations


class VidstyleError(Exception):
    """Base class. ``exit_code`` follows CONTRACT.md: 2 bad input/usage/resource, 1 internal."""

    exit_code: int = 1


class UserInputError(VidstyleError):
    """Bad input or usage: a missing file, not a video, a bad option value."""

    exit_code = 2


class ResourceUnavailableError(VidstyleError):
    """Something the user asked for is not here: CUDA, RAFT weights offline, a camera, a preset."""

    exit_code = 2


class StyleNotFoundError(UserInputError):
    """``--style`` names neither a file nor a preset."""


class ShapeError(VidstyleError):
    """A tensor arrived with the wrong shape (a programming error, exit 1)."""


class WeightsError(ResourceUnavailableError):
    """A weight file is missing, has the wrong checksum or the wrong layout."""


class RenderInterrupted(VidstyleError):
    """Ctrl-C during a render; the work folder keeps what is finished."""

    exit_code = 130


class StorageError(ResourceUnavailableError):
    """The disk said no: no space left, a read-only filesystem, a path that cannot be created."""


class DamagedInputError(UserInputError):
    """The input is damaged beyond use (no frame decodes), or damaged at all with ``--strict``."""
