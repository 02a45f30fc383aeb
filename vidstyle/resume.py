"""The work folder of a render: finished segments, the temporal state at each seam, and a manifest.

A long render is cut into segments, each named by its first frame index, so segments made in any
order (by several workers of a distributed render) fit together. Each finished segment is kept with
the state the temporal filter had after its last frame, so ``--resume`` continues exactly where the
render stopped and the result equals an uninterrupted render. The manifest records the settings and
refuses to mix renders; a segment counts as done only once its record file exists (written last, by
whoever rendered it, so workers never write the same file).
"""

from __future__ import annotations

import io
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from vidstyle.errors import UserInputError
from vidstyle.io.atomic import atomic_output
from vidstyle.io.sequence import is_pattern

MANIFEST = "manifest.json"
FORMAT_VERSION = 2


def default_work_dir(output: Path) -> Path:
    """Beside the output, hidden: ``.clip.mp4.vidstyle-work`` (same filesystem, so renames are cheap)."""
    name = output.name.replace("%", "") if is_pattern(output) else output.name
    return output.parent / f".{name}.vidstyle-work"


@dataclass(frozen=True)
class Segment:
    """Frames [first_frame, first_frame + frames) of the render; pts in the source's time base."""

    first_frame: int
    frames: int
    first_pts: int
    last_pts: int

    @property
    def end_frame(self) -> int:
        return self.first_frame + self.frames


class WorkDir:
    """Finished segments of one render, keyed by first frame; only recorded segments count as done."""

    def __init__(self, path: Path, fingerprint: dict, *, resume: bool, overwrite: bool) -> None:
        self.path = path
        self.fingerprint = fingerprint
        manifest = path / MANIFEST
        if manifest.exists():
            data = _read_manifest(manifest)
            if data is None:
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
                self._drop_unusable_segments()
            elif (self.segments or data.get("segments")) and not overwrite:
                raise UserInputError(
                    f"an unfinished render of this output is in {path}: add --resume to continue it, "
                    "or --overwrite to start over"
                )
            else:
                shutil.rmtree(path)
        elif resume and path.exists() and any(path.iterdir()):
            raise UserInputError(f"{path} is not a vidstyle work folder (no {MANIFEST})")
        path.mkdir(parents=True, exist_ok=True)
        if not manifest.exists():
            with atomic_output(manifest) as tmp:
                tmp.write_text(json.dumps({"version": FORMAT_VERSION, "fingerprint": fingerprint},
                                          indent=1, sort_keys=True))

    @property
    def segments(self) -> list[Segment]:
        """Finished segments, by first frame (read from the folder, so other workers' count too); a
        record that does not read (cut short) is not a finished segment."""
        records = (_read_record(r) for r in self.path.glob("segment_*.json"))
        return sorted((s for s in records if s is not None), key=lambda s: s.first_frame)

    def _drop_unusable_segments(self) -> None:
        """Forget recorded segments whose record, file or state is missing or cut short (a full disk, a
        SIGKILL mid-write): ``--resume`` redoes them."""
        for record in self.path.glob("segment_*.json"):
            segment = _read_record(record)
            if segment is not None and self._usable(segment):
                continue
            record.unlink()
            if segment is not None:
                self._state_path(segment.first_frame).unlink(missing_ok=True)

    def _usable(self, segment: Segment) -> bool:
        name = self.segment_path(segment.first_frame, "").name
        has_file = any(p.suffix != ".json" and ".partial" not in p.name for p in self.path.glob(f"{name}*"))
        try:
            torch.load(self._state_path(segment.first_frame), map_location="cpu", weights_only=True)
        except Exception:  # noqa: BLE001 - any unreadable state (truncated zip, zeros, missing) means redo
            return False
        return has_file

    @property
    def frames_done(self) -> int:
        return sum(s.frames for s in self.segments)

    def contiguous_end(self, start: int = 0) -> int:
        """The first frame not covered by finished segments that run without a gap from ``start``."""
        end = start
        for s in self.segments:
            if s.first_frame == end:
                end = s.end_frame
        return end

    def segment_path(self, first_frame: int, suffix: str) -> Path:
        return self.path / f"segment_{first_frame:09d}{suffix}"

    def _state_path(self, first_frame: int) -> Path:
        return self.path / f"state_{first_frame:09d}.pt"

    def finish_segment(self, segment: Segment, state: dict[str, torch.Tensor]) -> None:
        """Record a segment whose file is complete, with the temporal state after its last frame."""
        buffer = io.BytesIO()
        torch.save(state, buffer)  # in memory: a full disk then raises OSError, where torch's writer says less
        with atomic_output(self._state_path(segment.first_frame)) as tmp:
            tmp.write_bytes(buffer.getvalue())
        with atomic_output(self.segment_path(segment.first_frame, ".json")) as tmp:
            tmp.write_text(json.dumps(asdict(segment)))

    def state_before(self, frame: int) -> dict[str, torch.Tensor]:
        """The temporal state saved after the segment that ends just before ``frame`` ({} at frame 0)."""
        if frame == 0:
            return {}
        segment = next((s for s in self.segments if s.end_frame == frame), None)
        if segment is None:
            raise UserInputError(f"the work folder {self.path} has no finished segment ending at frame {frame}")
        return torch.load(self._state_path(segment.first_frame), map_location="cpu", weights_only=True)

    def pts_before(self, frame: int) -> int | None:
        """The pts of the last frame of the finished segment that ends just before ``frame`` (None: none)."""
        return next((s.last_pts for s in self.segments if s.end_frame == frame), None)

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


def _read_manifest(path: Path) -> dict | None:
    """The manifest's data, or None when it is cut short or not vidstyle's."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("fingerprint"), dict) else None


def _read_record(path: Path) -> Segment | None:
    """A segment's record, or None when it is cut short or not vidstyle's."""
    try:
        return Segment(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None
