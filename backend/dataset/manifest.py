"""The prepared-slices manifest: which slice came from which source and time range.

``prepared/manifest.json`` is the only record of what is prepared. Slice files
not listed in it are leftovers of an interrupted run and are removed at the
start of the next one. Slice paths in it are relative to the project folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

from backend.dataset import project as proj
from backend.fsutil import is_temp_name

SIGNATURE_VERSION = 1


def signature(source: dict[str, Any], settings: dict[str, Any], sample_rate: int,
              segments: list[list[float]] | None, pipeline_version: Any = None,
              clips: list[list[float]] | None = None) -> str:
    """Hash of everything that decides a source's slices; ``clips``: the exact spans of a
    source the Labels table cuts (left out of the hash when None, so the signatures of
    uncut sources stay what they were)."""
    payload: dict[str, Any] = {"v": SIGNATURE_VERSION, "pipeline": pipeline_version,
                               "sha256": source["sha256"], "settings": settings,
                               "sample_rate": sample_rate, "segments": segments}
    if clips is not None:
        payload["clips"] = [[round(float(a), 6), round(float(b), 6)] for a, b in clips]
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def jsonable(value: Any) -> Any:
    """Plain JSON types only: numpy scalars become floats/ints, non-finite floats None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (str, bool)) or value is None:
        return value
    if isinstance(value, int):
        return value
    if hasattr(value, "item"):  # numpy scalar
        return jsonable(value.item())
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else None
    return str(value)


def slice_names(entry: dict[str, Any]) -> set[str]:
    return {s["name"] for s in entry.get("slices", []) if isinstance(s, dict) and "name" in s}


def missing_files(project: proj.Project, entry: dict[str, Any]) -> list[str]:
    """The slice files (both rates) an entry lists that are not on disk, relative paths."""
    out = []
    for s in entry.get("slices", []):
        for key in ("path", "path_16k"):
            rel_path = s.get(key) if isinstance(s, dict) else None
            if not isinstance(rel_path, str) or not (project.root / rel_path).is_file():
                out.append(str(rel_path))
    return out


def all_slice_names(manifest: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for entry in manifest["sources"].values():
        names |= slice_names(entry)
    return names


def remove_files(project: proj.Project, names: set[str]) -> None:
    for name in names:
        for folder in (proj.GT_DIR, proj.WAV16K_DIR):
            with contextlib.suppress(FileNotFoundError):
                (project.path(folder) / name).unlink()


def remove_stem(project: proj.Project, stem: str) -> None:
    """Delete the (possibly partial) slice files of one processing attempt."""
    prefix = f"{stem}_"
    for folder in (proj.GT_DIR, proj.WAV16K_DIR):
        for p in project.path(folder).iterdir():
            if p.name.startswith(prefix):
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()


def clean_strays(project: proj.Project, manifest: dict[str, Any]) -> int:
    """Remove slice files the manifest does not list and leftover temp files."""
    keep = all_slice_names(manifest)
    removed = 0
    for folder in (proj.GT_DIR, proj.WAV16K_DIR):
        for p in project.path(folder).iterdir():
            if p.name not in keep and p.is_file():
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
                    removed += 1
    for folder in (".", proj.PREPARED_DIR, "reports"):
        d = project.path(folder)
        for p in d.iterdir() if d.is_dir() else ():
            if is_temp_name(p.name) and p.is_file():
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
                    removed += 1
    return removed


def drop_removed_sources(manifest: dict[str, Any], present: set[str]) -> bool:
    """Forget entries of sources no longer in the project; True if any were dropped."""
    gone = [sid for sid in manifest["sources"] if sid not in present]
    for sid in gone:
        del manifest["sources"][sid]
    return bool(gone)


def next_stem(source_id: str, old: dict[str, Any] | None) -> tuple[str, int]:
    """A file stem that differs from the one of the slices already prepared."""
    generation = int((old or {}).get("generation", 0)) + 1
    return f"{source_id}_{generation:03d}", generation


def rel(project: proj.Project, path: str | os.PathLike[str]) -> str:
    p = Path(path)
    try:
        return p.relative_to(project.root).as_posix()
    except ValueError:
        return str(p)


def make_entry(project: proj.Project, source: dict[str, Any], sig: str, generation: int,
               segments: list[list[float]] | None, out: dict[str, Any],
               clips: list[list[float]] | None = None) -> dict[str, Any]:
    """The manifest entry for a source a worker has just processed (``clips``: the exact
    spans it was cut at, for a source the Labels table cuts)."""
    slices = [{
        "name": Path(s["path_gt"]).name,
        "path": rel(project, s["path_gt"]),
        "path_16k": rel(project, s["path_16k"]),
        "start": s["start"], "end": s["end"], "duration": s["duration"],
        "peak": s["peak"], "rms_db": s["rms_db"], "problems": s["problems"],
    } for s in out["slices"]]
    return jsonable({
        "signature": sig, "generation": generation, "path": source["path"],
        "name": source.get("name"), "sha256": source["sha256"], "segments": segments,
        "prepared": proj.now_iso(), "warnings": out.get("warnings", []), "slices": slices,
        **({"clips": clips} if clips is not None else {}),
    })


def report_slices(project: proj.Project, manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Slice dicts for the health report, with absolute paths."""
    out = []
    for sid, entry in manifest["sources"].items():
        for s in entry.get("slices", []):
            out.append({**s, "path": str(project.root / s["path"]),
                        "path_16k": str(project.root / s["path_16k"]),
                        "source": entry.get("path"), "source_id": sid})
    return out


def totals(manifest: dict[str, Any]) -> tuple[int, float]:
    count, seconds = 0, 0.0
    for entry in manifest["sources"].values():
        for s in entry.get("slices", []):
            count += 1
            seconds += float(s.get("duration") or 0.0)
    return count, round(seconds, 3)
