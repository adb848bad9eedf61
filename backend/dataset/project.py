"""A voice project: one folder holding everything made from a set of recordings.

Layout (see docs/project-format.md)::

    project.json            name, sample rate, model kind, prepare and extract settings
    sources.json            the imported recordings (originals stay where they are)
    edits.json              segments kept per source, from the waveform editor
    prepared/0_gt_wavs/     slices at the project rate
    prepared/1_16k_wavs/    the same slices at 16 kHz
    prepared/manifest.json  which slice came from which source and time range
    reports/health.json     the dataset health report
    cache/                  disposable intermediate files

Every JSON file is written atomically, so a crash never leaves half a file.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.dataset.project_lock import LOCK_FILES
from backend.fsutil import atomic_write_json, read_json
from backend.names import safe_name

FORMAT = 1
SAMPLE_RATES = (32000, 40000, 48000)
MODEL_KINDS = ("rvc", "vits")
DEFAULT_SAMPLE_RATE = 40000
DEFAULT_MODEL_KIND = "rvc"

PROJECT_FILE = "project.json"
SOURCES_FILE = "sources.json"
EDITS_FILE = "edits.json"
PREPARED_DIR = "prepared"
GT_DIR = "prepared/0_gt_wavs"
WAV16K_DIR = "prepared/1_16k_wavs"
MANIFEST_FILE = "prepared/manifest.json"
REPORT_FILE = "reports/health.json"
CACHE_DIR = "cache"

_locks: dict[str, threading.RLock] = {}
_locks_guard = threading.Lock()


class ProjectError(Exception):
    """A project that cannot be created, opened or changed; the message says why."""

    def __init__(self, message: str, path: Path | None = None):
        super().__init__(message)
        self.message = message
        self.path = path


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


# A text-to-speech (VITS) dataset wants whole phrases, each paired with its text: no
# fixed-length chunks (they would cut words) and so no overlap.
KIND_PREPARE_DEFAULTS: dict[str, dict[str, Any]] = {
    "vits": {"chunk_seconds": 0.0, "overlap_seconds": 0.0},
}


def default_settings(model_kind: str = DEFAULT_MODEL_KIND) -> dict[str, Any]:
    """The prepare settings a new project of ``model_kind`` starts with."""
    from backend.dataset.pipeline import PrepareSettings

    return {**PrepareSettings().to_dict(), **KIND_PREPARE_DEFAULTS.get(model_kind, {})}


def check_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Validate a full settings dict; return it normalised (ValueError says what is wrong)."""
    from backend.dataset.pipeline import PrepareSettings

    parsed = PrepareSettings.from_dict(settings)
    problems = parsed.validate()
    if problems:
        raise ValueError("; ".join(problems))
    return parsed.to_dict()


def merge_settings(base: dict[str, Any], overrides: dict[str, Any] | None) -> dict[str, Any]:
    """Overrides over base (base completed with the defaults), validated."""
    merged = {**default_settings(), **(base or {}), **(overrides or {})}
    return check_settings(merged)


EXTRACT_KEYS = {"f0": str, "encoder": str, "version": str, "device": str, "filter_radius": int}


def check_extract_settings(values: Any) -> dict[str, Any]:
    """The extract settings to remember (ValueError names what is wrong); the job checks the
    values themselves again when it starts."""
    if not isinstance(values, dict):
        raise ValueError("extract settings must be an object")
    unknown = sorted(set(values) - set(EXTRACT_KEYS))
    if unknown:
        raise ValueError(f"unknown extract setting(s) {', '.join(unknown)}; known: "
                         f"{', '.join(EXTRACT_KEYS)}")
    out: dict[str, Any] = {}
    for key, kind in EXTRACT_KEYS.items():
        value = values.get(key)
        if value is None:
            continue
        if not isinstance(value, kind) or isinstance(value, bool) or value == "":
            raise ValueError(f"extract setting '{key}' must be a {kind.__name__}, not {value!r}")
        out[key] = value
    if out.get("version", "v2") not in ("v1", "v2"):
        raise ValueError(f"version must be v1 or v2, not {out['version']!r}")
    if not 0 <= out.get("filter_radius", 3) <= 15:
        raise ValueError("filter_radius must be from 0 to 15")
    return out


@dataclass
class Project:
    root: Path
    meta: dict[str, Any] = field(default_factory=dict)

    # paths ----------------------------------------------------------------
    def path(self, rel: str) -> Path:
        return self.root / rel

    @property
    def key(self) -> str:
        return str(self.root)

    @property
    def name(self) -> str:
        """The display name, as typed (``project.json`` ``name``)."""
        return str(self.meta.get("name", self.root.name))

    @property
    def file_stem(self) -> str:
        """The name as used in file names (exports, the index): ``safe_name(name)``."""
        return safe_name(self.name)

    @property
    def sample_rate(self) -> int:
        return int(self.meta["sample_rate"])

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "v2"))

    def lock(self) -> threading.RLock:
        """One lock per project folder for read-modify-write of its JSON files."""
        with _locks_guard:
            return _locks.setdefault(self.key, threading.RLock())

    def ensure_dirs(self) -> None:
        for rel in (GT_DIR, WAV16K_DIR, "reports", CACHE_DIR):
            self.path(rel).mkdir(parents=True, exist_ok=True)

    # project.json -----------------------------------------------------------
    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.meta.get("prepare") or {})

    def save_meta(self) -> None:
        atomic_write_json(self.path(PROJECT_FILE), self.meta)

    def set_settings(self, overrides: dict[str, Any] | None) -> dict[str, Any]:
        """Merge, validate and save prepare settings; returns the full settings."""
        with self.lock():
            merged = merge_settings(self.settings, overrides)
            if merged != self.meta.get("prepare"):
                self.meta["prepare"] = merged
                self.save_meta()
            return merged

    @property
    def extract_settings(self) -> dict[str, Any]:
        """The Extract page's last settings (f0, encoder, version, device, filter_radius)."""
        value = self.meta.get("extract")
        return dict(value) if isinstance(value, dict) else {}

    def set_extract_settings(self, values: dict[str, Any]) -> dict[str, Any]:
        """Check and save the extract settings in project.json (atomically)."""
        checked = check_extract_settings(values)
        with self.lock():
            if checked != self.meta.get("extract"):
                self.meta["extract"] = checked
                self.save_meta()
        return checked

    # sources.json -------------------------------------------------------------
    def load_sources(self) -> list[dict[str, Any]]:
        data = _load_versioned(self.path(SOURCES_FILE), {"format": FORMAT, "sources": []})
        sources = data.get("sources") if isinstance(data, dict) else None
        if not isinstance(sources, list):
            raise ProjectError(f"{self.path(SOURCES_FILE)} has no 'sources' list; "
                               "restore it from a backup or delete it and import again",
                               self.path(SOURCES_FILE))
        return [s for s in sources if isinstance(s, dict) and "id" in s]

    def save_sources(self, sources: list[dict[str, Any]]) -> None:
        atomic_write_json(self.path(SOURCES_FILE), {"format": FORMAT, "sources": sources})

    # edits.json ---------------------------------------------------------------
    def load_edits(self) -> dict[str, dict[str, Any]]:
        data = _load_versioned(self.path(EDITS_FILE), {})
        if not isinstance(data, dict):
            path = self.path(EDITS_FILE)
            raise ProjectError(f"{path} is not a JSON object; delete it to clear the edits", path)
        return {k: v for k, v in data.items() if isinstance(v, dict)}

    def save_edits(self, edits: dict[str, dict[str, Any]]) -> None:
        atomic_write_json(self.path(EDITS_FILE), edits)

    def segments_of(self, source_id: str, edits: dict | None = None) -> list[list[float]] | None:
        entry = (self.load_edits() if edits is None else edits).get(source_id) or {}
        segs = entry.get("segments")
        return [[float(s), float(e)] for s, e in segs] if segs else None

    # manifest -----------------------------------------------------------------
    def load_manifest(self) -> dict[str, Any]:
        empty = {"format": FORMAT, "sample_rate": self.sample_rate, "settings": self.settings,
                 "sources": {}, "errors": []}
        data = _load_versioned(self.path(MANIFEST_FILE), empty)
        if not isinstance(data, dict) or not isinstance(data.get("sources"), dict):
            raise ProjectError(f"{self.path(MANIFEST_FILE)} is damaged; delete it and run "
                               "prepare again", self.path(MANIFEST_FILE))
        data.setdefault("errors", [])
        return data

    def save_manifest(self, manifest: dict[str, Any]) -> None:
        atomic_write_json(self.path(MANIFEST_FILE), manifest)

    def check_files(self) -> None:
        """ProjectError naming the first of the project's JSON files that cannot be used
        (damaged, or made by a newer Timbre Studio), before a job changes any of them."""
        self.load_sources()
        self.load_edits()
        self.load_manifest()

    def summary(self) -> dict[str, Any]:
        sources = self.load_sources()
        present = {s["id"] for s in sources}
        slices, seconds = 0, 0.0
        if self.path(MANIFEST_FILE).exists():
            for sid, entry in self.load_manifest()["sources"].items():
                if sid in present:
                    slices += len(entry.get("slices", []))
                    seconds += sum(float(s.get("duration", 0.0)) for s in entry.get("slices", []))
        return {"sources": len(sources),
                "sources_ok": sum(1 for s in sources if s.get("status") == "ok"),
                "slices": slices, "prepared_seconds": round(seconds, 3)}


def _load_json(path: Path, default: Any) -> Any:
    if not path.exists():
        return default
    try:
        return read_json(path)
    except ValueError as exc:
        raise ProjectError(f"{path} is damaged (not valid JSON: {exc}); restore it from a "
                           "backup or delete it", path) from exc
    except OSError as exc:
        raise ProjectError(f"cannot read {path}: {exc.strerror or exc}", path) from exc


def newer_format_message(path: Path, found: int) -> str:
    return (f"{path} was made by a newer Timbre Studio (format {found}; this version reads "
            f"format {FORMAT}): update the app to use this project. Nothing was changed")


def newer_format(data: Any) -> int | None:
    """The ``format`` of a loaded JSON file when it is newer than this version reads."""
    found = data.get("format") if isinstance(data, dict) else None
    if isinstance(found, int) and not isinstance(found, bool) and found > FORMAT:
        return found
    return None


def _load_versioned(path: Path, default: Any) -> Any:
    """``_load_json``, refusing a file of a newer format (it would be rewritten as ours)."""
    data = _load_json(path, default)
    found = newer_format(data)
    if found is not None:
        raise ProjectError(newer_format_message(path, found), path)
    return data


def is_project(path: str | Path) -> bool:
    return (Path(path) / PROJECT_FILE).is_file()


def create_project(path: str | Path, name: str | None = None,
                   sample_rate: int = DEFAULT_SAMPLE_RATE,
                   model_kind: str = DEFAULT_MODEL_KIND) -> Project:
    """Make a new project folder (the folder may exist if it is empty)."""
    root = abs_path(path)
    check_new_project(root, sample_rate, model_kind)
    root.mkdir(parents=True, exist_ok=True)
    meta = {"format": FORMAT, "name": name or root.name, "sample_rate": int(sample_rate),
            "model_kind": model_kind, "version": "v2", "created": now_iso(),
            "prepare": default_settings(model_kind)}
    project = Project(root, meta)
    project.ensure_dirs()
    project.save_sources([])
    project.save_edits({})
    project.save_meta()  # last: a folder without project.json is not a project yet
    return project


def check_new_project(root: Path, sample_rate: Any, model_kind: Any) -> None:
    """Raise ProjectError if a project cannot be created at ``root`` with these values."""
    if isinstance(sample_rate, bool) or sample_rate not in SAMPLE_RATES:
        raise ProjectError(f"sample rate must be one of {', '.join(map(str, SAMPLE_RATES))} Hz, "
                           f"not {sample_rate!r}")
    if model_kind not in MODEL_KINDS:
        raise ProjectError(f"model kind must be one of {', '.join(MODEL_KINDS)}, "
                           f"not {model_kind!r}")
    if is_project(root):
        raise ProjectError(f"{root} already holds a project; open it instead", root)
    if root.exists() and not root.is_dir():
        raise ProjectError(f"{root} is a file, not a folder; choose another place", root)
    if root.is_dir() and any(p.name not in LOCK_FILES for p in root.iterdir()):
        raise ProjectError(f"{root} is a folder that already has files in it; choose an empty "
                           "or new folder for the project", root)


def open_project(path: str | Path) -> Project:
    """Open an existing project (ProjectError naming the file if it is missing or damaged)."""
    root = abs_path(path)
    pfile = root / PROJECT_FILE
    if not root.is_dir():
        raise ProjectError(f"no project folder at {root}", root)
    if not pfile.is_file():
        raise ProjectError(f"{root} is not a Timbre Studio project: {PROJECT_FILE} is missing",
                           pfile)
    meta = _load_versioned(pfile, None)
    problem = _meta_problem(meta)
    if problem:
        raise ProjectError(f"{pfile} is damaged: {problem}; restore it from a backup", pfile)
    project = Project(root, meta)
    with contextlib.suppress(OSError):  # a read-only project still opens (to look at);
        project.ensure_dirs()  # a job says so when it takes the project's lock
    return project


def _meta_problem(meta: Any) -> str | None:
    if not isinstance(meta, dict):
        return "it is not a JSON object"
    if not isinstance(meta.get("format"), int):
        return "'format' is missing"
    if meta.get("sample_rate") not in SAMPLE_RATES:
        return f"'sample_rate' must be one of {SAMPLE_RATES}, found {meta.get('sample_rate')!r}"
    if meta.get("model_kind") not in MODEL_KINDS:
        return f"'model_kind' must be one of {MODEL_KINDS}, found {meta.get('model_kind')!r}"
    if not isinstance(meta.get("prepare", {}), dict):
        return "'prepare' must be an object"
    return None


def validate_segments(segments: Any, duration: float | None) -> list[list[float]]:
    """Check editor segments: [[start, end], ...] sorted, non-overlapping, inside the file."""
    if not isinstance(segments, list) or not segments:
        raise ValueError("'segments' must be a non-empty list of [start, end] pairs "
                         "(send null to clear the edits)")
    out: list[list[float]] = []
    prev_end = 0.0
    for i, seg in enumerate(segments):
        if (not isinstance(seg, (list, tuple)) or len(seg) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in seg)):
            raise ValueError(f"segment {i} must be a pair of numbers [start, end], got {seg!r}")
        start, end = float(seg[0]), float(seg[1])
        if not (start >= 0 and end > start):
            raise ValueError(f"segment {i} [{start}, {end}] must have 0 <= start < end")
        if start < prev_end:
            raise ValueError(f"segment {i} [{start}, {end}] overlaps or comes before the "
                             "previous one; segments must be sorted and not overlap")
        if duration is not None and end > duration + 1e-3:
            raise ValueError(f"segment {i} ends at {end} s, after the end of the file "
                             f"({duration:.3f} s)")
        out.append([start, min(end, duration) if duration is not None else end])
        prev_end = end
    return out


def abs_path(path: str | Path) -> Path:
    """Absolute, normalised, user-expanded path (symlinks kept as given)."""
    return Path(os.path.abspath(Path(path).expanduser()))
