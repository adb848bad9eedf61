"""Importing recordings into a project: find them, fingerprint them, record them.

Originals are only read: never modified, moved or copied. A source is known by
the SHA-256 of its bytes, so the same recording imported twice (even from
another folder) is recorded once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.dataset.project import Project, abs_path, now_iso
from backend.fsutil import describe_os_error, sha256_file
from backend.names import is_utf8_name, shown_name

AUDIO_EXTENSIONS = frozenset({
    ".wav", ".flac", ".ogg", ".mp3", ".m4a", ".aac", ".wma", ".opus", ".mp4", ".mkv",
    ".webm", ".aiff", ".aif",
})
_EXT_LIST = ", ".join(sorted(AUDIO_EXTENSIONS))
_CHUNK = 1 << 20
_SAVE_EVERY_S = 1.0

Check = Callable[[], None]
Progress = Callable[[int, int], None]


def _no_check() -> None:
    return None


def is_audio_name(path: Path) -> bool:
    return path.suffix.lower() in AUDIO_EXTENSIONS


def _hidden(name: str) -> bool:
    return name.startswith(".")


def scan_inputs(inputs: Iterable[str | Path], check: Check = _no_check,
                ) -> tuple[list[Path], list[dict[str, str]]]:
    """Expand files and folders (recursively) into audio files, sorted per folder.

    Returns ``(files, errors)``; errors are ``{path, message}`` for inputs that
    do not exist or are not audio files, folders that cannot be read, and names
    that are not valid UTF-8 (their path is shown escaped, ``\\xff``). What can
    be imported still is.
    """
    files: list[Path] = []
    errors: list[dict[str, str]] = []
    seen: set[Path] = set()
    for raw in inputs:
        path = abs_path(raw)
        if not is_utf8_name(path):
            errors.append(_bad_name(path, "input"))
            continue
        if path.is_dir():
            before = len(errors)
            found = _walk(path, check, errors)
            if not found and len(errors) == before:
                errors.append({"path": str(path), "message": f"no audio files found in {path} "
                               f"(looked for {_EXT_LIST})"})
        elif path.is_file():
            if not is_audio_name(path):
                errors.append({"path": str(path), "message": f"{path.name} is not a supported "
                               f"audio file type; use one of {_EXT_LIST}"})
                continue
            found = [path]
        else:
            errors.append({"path": str(path), "message": f"{path} does not exist"})
            continue
        for f in found:
            if f not in seen:
                seen.add(f)
                files.append(f)
    return files, errors


def _bad_name(path: Path, what: str) -> dict[str, str]:
    """A file, folder or input path whose name is not valid UTF-8 (never imported)."""
    shown = shown_name(path)
    subject = {"file": shown, "folder": f"the folder {shown}"}.get(what, shown)
    which = "path" if what == "input" else "name"
    fix = "rename it" if what == "input" else f"rename the {what}"
    return {"path": shown, "message": f"{subject} was not imported: its {which} holds bytes "
            f"that are not UTF-8 text (shown as \\x..); {fix} and import again"}


def _unreadable_folder(exc: OSError) -> dict[str, str]:
    where = shown_name(exc.filename) if exc.filename else "a folder"
    reason = "permission denied" if isinstance(exc, PermissionError) else (
        exc.strerror or str(exc))
    return {"path": where, "message": f"could not read the folder {where} ({reason}), so its "
            "recordings were not imported; check its permissions, then import again"}


def _walk(folder: Path, check: Check, errors: list[dict[str, str]]) -> list[Path]:
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(
            folder, onerror=lambda exc: errors.append(_unreadable_folder(exc))):
        check()
        keep = []
        for d in sorted(dirnames):
            if _hidden(d):
                continue
            if is_utf8_name(d):
                keep.append(d)
            else:
                errors.append(_bad_name(Path(dirpath) / d, "folder"))
        dirnames[:] = keep
        for name in sorted(filenames):
            p = Path(dirpath) / name
            if _hidden(name) or not is_audio_name(p):
                continue
            if is_utf8_name(name):
                out.append(p)
            else:
                errors.append(_bad_name(p, "file"))
    return out


def make_record(path: Path, sha: str, size: int) -> dict[str, Any]:
    """A source record, probed for its audio properties (status 'error' if unreadable)."""
    from backend.dataset.audio_io import AudioLoadError, probe

    record: dict[str, Any] = {
        "id": sha[:16], "path": str(path), "name": path.name, "sha256": sha, "size": size,
        "added": now_iso(), "duration": None, "sample_rate": None, "channels": None,
        "status": "ok", "error": None,
    }
    try:
        info = probe(path)
    except AudioLoadError as exc:
        record.update(status="error", error=str(exc))
    except OSError as exc:
        record.update(status="error", error=describe_os_error(exc, "reading", path))
    else:
        record.update(duration=round(float(info.duration), 6), sample_rate=int(info.sample_rate),
                      channels=int(info.channels))
    return record


def source_notes(record: dict[str, Any]) -> list[str]:
    """Things worth telling the user about a readable source before training on it."""
    notes = []
    name = repr(record.get("name"))
    channels, rate = record.get("channels"), record.get("sample_rate")
    if channels and channels > 2:
        notes.append(f"{name} has {channels} channels; they were mixed down to one. If they are "
                     "different microphones or speakers, export the channel you want on its own")
    if rate and rate > 192000:
        notes.append(f"{name} is sampled at {rate} Hz, far above what a voice needs; it was "
                     "resampled to the project rate (re-export it at 48000 Hz to save time "
                     "and disk space)")
    return notes


@dataclass
class ImportResult:
    added: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"added": self.added, "duplicates": self.duplicates, "errors": self.errors}


class _Importer:
    """Adds records to ``sources.json``, saving at most once a second and at the end."""

    def __init__(self, project: Project):
        self.project = project
        self.pending: dict[str, dict[str, Any]] = {}
        self.known = {s["sha256"]: s for s in project.load_sources() if "sha256" in s}
        self.last_save = time.monotonic()

    def add(self, path: Path, check: Check, result: ImportResult) -> None:
        try:
            size = path.stat().st_size
            sha = sha256_file(path, check=check)
        except OSError as exc:
            result.errors.append({"path": str(path),
                                  "message": describe_os_error(exc, "reading", path)})
            return
        old = self.known.get(sha)
        if old is not None and old.get("status") == "ok":
            result.duplicates.append({"path": str(path), "id": old["id"],
                                      "same_as": old["path"]})
            return
        record = make_record(path, sha, size)
        if old is not None:  # was unreadable before: try again, keep its id and date
            record["added"] = old.get("added", record["added"])
        self.known[sha] = record
        self.pending[sha] = record
        if record["status"] == "ok":
            result.added.append(record)
        else:
            result.errors.append({"path": str(path), "message": record["error"]})
        if time.monotonic() - self.last_save > _SAVE_EVERY_S:
            self.save()

    def save(self) -> None:
        if not self.pending:
            return
        with self.project.lock():  # merge with what others may have changed meanwhile
            current = self.project.load_sources()
            by_sha = {s.get("sha256"): i for i, s in enumerate(current)}
            for sha, rec in self.pending.items():
                if sha in by_sha:
                    current[by_sha[sha]] = rec
                else:
                    current.append(rec)
            self.project.save_sources(current)
        self.pending.clear()
        self.last_save = time.monotonic()


def import_sources(project: Project, inputs: Iterable[str | Path], *, check: Check = _no_check,
                   progress: Progress | None = None) -> ImportResult:
    """Record every audio file under ``inputs`` in the project.

    Cancel-safe: when ``check()`` raises, what was fingerprinted so far is saved
    and the exception propagates.
    """
    result = ImportResult()
    files, result.errors = scan_inputs(inputs, check)
    importer = _Importer(project)
    try:
        for i, path in enumerate(files):
            check()
            importer.add(path, check, result)
            if progress is not None:
                progress(i + 1, len(files))
    finally:
        importer.save()
    return result
