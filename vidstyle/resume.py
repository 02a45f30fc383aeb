"""The work folder of a render: finished segments, the temporal state at each seam, and a manifest.

A long render is cut into segments. Each finished segment is kept with the state the temporal
filter had after its last frame, so ``--resume`` continues exactly where the render stopped and the
result equals an uninterrupted render. The manifest records the settings and refuses to mix renders.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch

from vidstyle.errors import UserInputError
from vidstyle.io.sequence import is_pattern

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


def default_work_dir(output: Path) -> Path:
    """Beside the output, hidden: ``.clip.mp4.vidstyle-work`` (same filesystem, so renames are cheap)."""
    name = output.name.replace("%", "") if is_pattern(output) else output.name
    return output.parent / f".{name}.vidstyle-work"


@dataclass(frozen=True)
class Segment:
    index: int
    first_frame: int
    first_pts: int
    frames: int


class WorkDir:
    """Finished segments of one render; only segments listed in the manifest count as done."""

    def __init__(self, path: Path, fingerprint: dict, *, resume: bool, overwrite: bool) -> None:
        self.path = path
        self.fingerprint = fingerprint
        manifest = path / MANIFEST
        self.segments: list[Segment] = []
        data = _read_manifest(manifest) if manifest.exists() else None
        if data is not None:
            if data.get("damaged"):
                if resume or not overwrite:
                    raise UserInputError(f"the {MANIFEST} of the work folder {path} is damaged; run with "
                                         "--overwrite (without --resume) to start over")
                shutil.rmtree(path)
            elif resume:
                if data.get("version") != FORMAT_VERSION or data.get("fingerprint") != fingerprint:
                    old = data.get("fingerprint", {})
                    changed = sorted(k for k in set(fingerprint) | set(old) if fingerprint.get(k) != old.get(k))
                    raise UserInputError(
                        f"the work folder {path} holds a render made with other settings "
                        f"({', '.join(changed) or 'format'}); run with those settings, or without --resume "
                        "to start over"
                    )
                self.segments = [Segment(**s) for s in data["segments"]]
                self._drop_unusable_segments()
            elif data.get("segments") and not overwrite:
                raise UserInputError(
                    f"an unfinished render of this output is in {path}: add --resume to continue it, "
                    "or --overwrite to start over"
                )
            else:
                shutil.rmtree(path)
        elif resume and path.exists() and any(path.iterdir()):
            raise UserInputError(f"{path} is not a vidstyle work folder (no {MANIFEST})")
        path.mkdir(parents=True, exist_ok=True)
        self._write_manifest()

    def _drop_unusable_segments(self) -> None:
        """Forget trailing segments whose file or state is missing or cut short: resume redoes them."""
        while self.segments:
            index = self.segments[-1].index
            has_file = any(p.suffix != ".partial" for p in self.path.glob(f"segment_{index:05d}*"))
            try:
                torch.load(self._state_path(index), map_location="cpu", weights_only=True)
                if has_file:
                    return
            except Exception:  # noqa: BLE001 - any unreadable state (truncated zip, zeros) means redo
                pass
            self.segments.pop()

    @property
    def frames_done(self) -> int:
        return sum(s.frames for s in self.segments)

    def segment_path(self, index: int, suffix: str) -> Path:
        return self.path / f"segment_{index:05d}{suffix}"

    def _state_path(self, index: int) -> Path:
        return self.path / f"state_{index:05d}.pt"

    def finish_segment(self, segment: Segment, state: dict[str, torch.Tensor]) -> None:
        """Record a segment whose file is complete, with the temporal state after its last frame."""
        tmp = self._state_path(segment.index).with_suffix(".pt.partial")
        buffer = io.BytesIO()
        torch.save(state, buffer)
        tmp.write_bytes(buffer.getvalue())  # a full disk raises OSError here; torch's writer says less
        os.replace(tmp, self._state_path(segment.index))
        self.segments.append(segment)
        self._write_manifest()

    def last_state(self) -> dict[str, torch.Tensor]:
        """The temporal state saved after the last finished segment ({} when nothing is done)."""
        if not self.segments:
            return {}
        return torch.load(self._state_path(self.segments[-1].index), map_location="cpu", weights_only=True)

    def _write_manifest(self) -> None:
        data = {"version": FORMAT_VERSION, "fingerprint": self.fingerprint,
                "segments": [s.__dict__ for s in self.segments]}
        tmp = self.path / (MANIFEST + ".partial")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        os.replace(tmp, self.path / MANIFEST)

    def abandon(self) -> str:
        """After a failed render: remove the folder when it holds nothing to resume (returns ""), else keep
        it and return what to tell the user."""
        if not self.segments:
            self.remove()
            return ""
        return (f"{self.frames_done} finished frames are kept in {self.path}: run the same command with "
                "--resume to continue")

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _read_manifest(path: Path) -> dict:
    """The manifest's data, or ``{"damaged": True}`` when it is cut short or not vidstyle's."""
    try:
        data = json.loads(path.read_text())
        [Segment(**s) for s in data["segments"]]
        return data
    except (ValueError, TypeError, KeyError):
        return {"damaged": True}
