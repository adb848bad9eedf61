"""Labels commands: the proofreading table's rows, its edits, undo and redo.

Every edit is written to ``<project>/labels.json`` (atomically, through ``store.update``)
before the reply goes out, so a crash of the app or the backend loses nothing that was
answered. Each command syncs the rows with the prepared clips first (``rows.sync``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from backend.commands import CommandError, command
from backend.commands.project import _writing
from backend.dataset import project as proj
from backend.labels import history, ops, rows, store
from backend.protocol import E_BAD_ARGS, E_BUSY, E_NOT_FOUND


def _project(args: dict) -> proj.Project:
    path = args.get("project")
    if not isinstance(path, str) or not path.strip():
        raise CommandError("'project' must be the path of a project folder", code=E_BAD_ARGS)
    try:
        return proj.open_project(path)
    except proj.ProjectError as exc:
        raise CommandError(exc.message, code=E_NOT_FOUND) from exc


def _synced(project: proj.Project) -> store.LabelsDoc:
    """The labels, synced with the manifest and saved when that changed them; while a job
    of another process (the command line) holds the project, synced in memory only."""
    def sync(doc: store.LabelsDoc) -> store.LabelsDoc:
        rows.sync(doc, project)
        return doc

    try:
        with _writing(project):
            return store.update(project.root, sync)
    except CommandError as exc:
        if exc.code != E_BUSY:
            raise
    try:
        return sync(store.load(project.root))
    except proj.ProjectError as exc:
        raise CommandError(exc.message, code=E_BAD_ARGS) from exc


@command("labels.get")
def get(args: dict, server: Any) -> dict:
    project = _project(args)
    doc = _synced(project)
    view = rows.View(project)
    shown = view.rows(doc)
    live = [r for r in shown if not r["stale"]]
    return {"rows": shown, "revision": doc.revision, **history.labels(doc),
            "speakers": sorted({r["speaker"] for r in live if r.get("speaker")}),
            "languages": sorted({r["language"] for r in live if r.get("language")}),
            "summary": rows.summary(shown), "default_speaker": project.name}


def _edit(args: dict, change: Callable[[store.LabelsDoc], dict[str, Any]]) -> dict:
    """Sync, run ``change`` and save in one locked read-modify-write; the reply lists every
    row that differs from before (rows the sync added too) and the rows removed."""
    project = _project(args)

    def edit(doc: store.LabelsDoc) -> tuple[dict[str, Any], dict[str, Any], store.LabelsDoc]:
        before = {r["id"]: copy.deepcopy(r) for r in doc.rows}
        rows.sync(doc, project)
        extra = change(doc)
        return before, extra, doc

    try:
        with _writing(project):
            before, extra, doc = store.update(project.root, edit)
    except ops.UnknownRow as exc:
        raise CommandError(exc.message, code=E_NOT_FOUND) from exc
    except ValueError as exc:  # OpError, history.NothingTo
        raise CommandError(str(exc), code=E_BAD_ARGS) from exc
    view = rows.View(project)
    now = {r["id"]: r for r in doc.rows}
    changed = [view.row(r) for rid, r in now.items() if before.get(rid) != r]
    extra.pop("changed", None)
    return {**extra, "revision": doc.revision, "changed": changed,
            "removed": sorted(set(before) - set(now)), **history.labels(doc)}


@command("labels.apply")
def apply(args: dict, server: Any) -> dict:
    op = args.get("op")
    if not isinstance(op, dict):
        raise CommandError("'op' must be an object with a 'kind' (set, split, merge, delete, "
                           "replace, flag)", code=E_BAD_ARGS)
    return _edit(args, lambda doc: ops.apply(doc, op))


@command("labels.undo")
def undo(args: dict, server: Any) -> dict:
    return _edit(args, lambda doc: _entry_reply(history.undo(doc)))


@command("labels.redo")
def redo(args: dict, server: Any) -> dict:
    return _edit(args, lambda doc: _entry_reply(history.redo(doc)))


def _entry_reply(done: tuple[dict[str, Any], set[str], set[str]]) -> dict[str, Any]:
    return {"label": done[0]["label"]}
