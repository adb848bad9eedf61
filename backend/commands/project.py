"""Project commands: create, open, editor segments, sources, prepare and extract settings."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from backend.commands import CommandError, command, project_arg
from backend.dataset import manifest as mf
from backend.dataset import project as proj
from backend.dataset import project_lock
from backend.features import store
from backend.names import safe_name
from backend.protocol import E_BAD_ARGS, E_BUSY, E_IO, E_NOT_FOUND


def _path(args: dict) -> str:
    path = args.get("path")
    if not isinstance(path, str) or not path.strip():
        raise CommandError("'path' must be the path of a project folder", code=E_BAD_ARGS)
    return path


def _open(args: dict) -> proj.Project:
    return project_arg(args, "path")


@contextlib.contextmanager
def _writing(project: proj.Project) -> Iterator[None]:
    """Around a change to the project's files: refused with ``busy`` while a job of another
    process (the command line) works on the project; files it cannot use are named."""
    try:
        with project_lock.editing(project.root), project.lock():
            yield
    except project_lock.ProjectBusy as exc:
        raise CommandError(exc.message, code=E_BUSY, details={"holder": exc.holder}) from exc
    except project_lock.ProjectNotWritable as exc:
        raise CommandError(exc.message, code=E_IO) from exc
    except proj.ProjectError as exc:
        raise CommandError(exc.message, code=E_BAD_ARGS) from exc
    except OSError as exc:
        raise CommandError(project_lock.not_writable_message(project.root, exc),
                           code=E_IO) from exc


def _source_id(args: dict) -> str:
    sid = args.get("source_id")
    if not isinstance(sid, str) or not sid:
        raise CommandError("'source_id' must be the id of a source of the project",
                           code=E_BAD_ARGS)
    return sid


def _find_source(project: proj.Project, sid: str) -> dict[str, Any]:
    for src in project.load_sources():
        if src["id"] == sid:
            return src
    raise CommandError(f"project {project.root} has no source with id {sid!r}",
                       code=E_NOT_FOUND)


def _new_path(args: dict, name: str | None) -> str:
    """``path``, or the folder named after the project (``safe_name``) inside ``parent``."""
    parent = args.get("parent")
    if args.get("path") is not None or parent is None:
        return _path(args)
    if not isinstance(parent, str) or not parent.strip():
        raise CommandError("'parent' must be the folder to create the project in",
                           code=E_BAD_ARGS)
    if name is None:
        raise CommandError("'name' is required with 'parent': the project folder is named "
                           "after it", code=E_BAD_ARGS)
    return str(Path(parent) / safe_name(name))


@command("project.create")
def create(args: dict, server: Any) -> dict:
    sample_rate = args.get("sample_rate", proj.DEFAULT_SAMPLE_RATE)
    model_kind = args.get("model_kind", proj.DEFAULT_MODEL_KIND)
    name = args.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise CommandError("'name' must be a non-empty string", code=E_BAD_ARGS)
    path = _new_path(args, name)
    try:
        project = proj.create_project(path, name, sample_rate, model_kind)
    except proj.ProjectError as exc:
        raise CommandError(exc.message, code=E_BAD_ARGS) from exc
    except OSError as exc:
        raise CommandError(f"cannot create the project at {path}: {exc.strerror or exc}") from exc
    return {"path": str(project.root), "project": project.meta, "file_stem": project.file_stem}


@command("project.open")
def open_(args: dict, server: Any) -> dict:
    project = _open(args)
    try:
        sources = project.load_sources()
        edits = project.load_edits()
        summary = {**project.summary(), "pitch_note": _pitch_note(project)}
    except proj.ProjectError as exc:
        raise CommandError(exc.message) from exc
    manifest = project.path(proj.MANIFEST_FILE)
    report = project.path(proj.REPORT_FILE)
    return {"path": str(project.root), "project": project.meta, "file_stem": project.file_stem,
            "sources": sources,
            "edits": edits, "manifest": str(manifest) if manifest.is_file() else None,
            "report": str(report) if report.is_file() else None, "summary": summary,
            "prepared_edits": _prepared_edits(project)}


def _prepared_edits(project: proj.Project) -> dict[str, Any]:
    """Source id -> the segments its prepared clips were cut with (null: the whole file)."""
    if not project.path(proj.MANIFEST_FILE).is_file():
        return {}
    try:
        sources = project.load_manifest().get("sources") or {}
    except proj.ProjectError:
        return {}  # damaged: prepare says so; the editor just shows no pending edits
    return {sid: e.get("segments") for sid, e in sources.items() if isinstance(e, dict)}


@command("project.set_edits")
def set_edits(args: dict, server: Any) -> dict:
    project = _open(args)
    sid = _source_id(args)
    if "segments" not in args:
        raise CommandError("'segments' is required: a list of [start, end] pairs in seconds, "
                           "or null to clear the edits", code=E_BAD_ARGS)
    with _writing(project):
        src = _find_source(project, sid)
        edits = project.load_edits()
        if args["segments"] is None:
            edits.pop(sid, None)
        else:
            try:
                segments = proj.validate_segments(args["segments"], src.get("duration"))
            except ValueError as exc:
                raise CommandError(f"bad segments for {src['name']}: {exc}",
                                   code=E_BAD_ARGS) from exc
            edits[sid] = {"segments": segments}
        project.save_edits(edits)
    return {"ok": True}


@command("project.remove_source")
def remove_source(args: dict, server: Any) -> dict:
    """Forget a source; its slices go at the next prepare. The original file stays."""
    project = _open(args)
    sid = _source_id(args)
    with _writing(project):
        src = _find_source(project, sid)
        project.save_sources([s for s in project.load_sources() if s["id"] != sid])
        edits = project.load_edits()
        if edits.pop(sid, None) is not None:
            project.save_edits(edits)
    return {"ok": True, "removed": src}


@command("project.settings")
def settings(args: dict, server: Any) -> dict:
    project = _open(args)
    overrides = args.get("settings")
    if overrides is None:
        return {"settings": proj.merge_settings(project.settings, None)}
    if not isinstance(overrides, dict):
        raise CommandError("'settings' must be an object of prepare settings", code=E_BAD_ARGS)
    try:
        with _writing(project):
            merged = project.set_settings(overrides)
    except (ValueError, TypeError) as exc:
        raise CommandError(f"bad prepare settings: {exc}", code=E_BAD_ARGS) from exc
    return {"settings": merged}


@command("project.extract_settings")
def extract_settings(args: dict, server: Any) -> dict:
    """The Extract page's settings kept in project.json; saved when ``settings`` is given."""
    project = _open(args)
    values = args.get("settings")
    note = _pitch_note(project)
    if values is None:
        return {"settings": project.extract_settings, "pitch_note": note}
    try:
        return {"settings": project.set_extract_settings(values), "pitch_note": note}
    except ValueError as exc:
        raise CommandError(f"bad extract settings: {exc}", code=E_BAD_ARGS) from exc


def _pitch_note(project: proj.Project) -> str | None:
    """One sentence when the project's features were made under older pitch rules."""
    try:
        return store.pitch_rules_note(store.load_manifest(project.root))
    except store.FeatureFileError:  # a manifest of a newer format: Extract says so
        return None


@command("project.slices")
def slices(args: dict, server: Any) -> dict:
    """The prepared slices (absolute paths), each with its source and time range."""
    project = _open(args)
    if not project.path(proj.MANIFEST_FILE).is_file():
        return {"slices": []}
    present = {s["id"] for s in project.load_sources()}
    return {"slices": [s for s in mf.report_slices(project, project.load_manifest())
                       if s["source_id"] in present]}
