"""Labels commands: the proofreading table's rows, its edits, undo and redo.

Every edit is written to ``<project>/labels.json`` (atomically, through ``store.update``)
before the reply goes out, so a crash of the app or the backend loses nothing that was
answered. Each command syncs the rows with the prepared clips first (``rows.sync``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend.commands import CommandError, command, project_arg
from backend.commands.project import _writing
from backend.dataset import project as proj
from backend.labels import history, ops, rows, store
from backend.protocol import E_BAD_ARGS, E_BUSY, E_IO, E_NOT_FOUND


def _synced(project: proj.Project) -> store.LabelsDoc:
    """The labels, synced with the manifest and saved when that changed them; while a job
    of another process (the command line) holds the project, or when the folder cannot be
    written (read-only), synced in memory only: the table can still be looked at."""
    def sync(doc: store.LabelsDoc) -> store.LabelsDoc:
        rows.sync(doc, project)
        return doc

    try:
        with _writing(project):
            return store.update(project.root, sync)
    except CommandError as exc:
        if exc.code not in (E_BUSY, E_IO):
            raise
    try:
        return sync(store.load(project.root))
    except proj.ProjectError as exc:
        raise CommandError(exc.message, code=E_BAD_ARGS) from exc


@command("labels.get")
def get(args: dict, server: Any) -> dict:
    project = project_arg(args)
    doc = _synced(project)
    view = rows.View(project)
    shown = view.rows(doc)
    live = [r for r in shown if not r["stale"]]
    return {"rows": shown, "revision": doc.revision, **history.labels(doc),
            "speakers": sorted({r["speaker"] for r in live if r.get("speaker")}),
            "languages": sorted({r["language"] for r in live if r.get("language")}),
            "summary": rows.summary(shown), "default_speaker": project.name}


Change = tuple[dict[str, Any], set[str], set[str]]  # (reply fields, changed ids, removed ids)


def _edit(args: dict, change: Callable[[store.LabelsDoc], Change]) -> dict:
    """Sync, run ``change`` and save in one locked read-modify-write; the reply lists the
    rows changed (rows the sync added or marked included) and every row that is gone."""
    project = project_arg(args)
    before: set[str] = set()

    def edit(doc: store.LabelsDoc) -> tuple[Change, set[str], store.LabelsDoc]:
        nonlocal before
        before = {r["id"] for r in doc.rows}
        synced = rows.sync(doc, project)
        cut = sorted(doc.cut_sources)
        done = change(doc)
        if sorted(doc.cut_sources) != cut:  # an undo made a recording uncut: its rows
            synced |= rows.sync(doc, project)  # follow the prepared clips again
        return done, synced, doc

    try:
        with _writing(project):
            (extra, changed, removed), synced, doc = store.update(project.root, edit)
    except ops.UnknownRow as exc:
        raise CommandError(exc.message, code=E_NOT_FOUND) from exc
    except ValueError as exc:  # OpError, history.NothingTo
        raise CommandError(str(exc), code=E_BAD_ARGS) from exc
    view = rows.View(project)
    now = {r["id"] for r in doc.rows}
    ids = (changed | synced) & now
    return {**extra, "revision": doc.revision,
            "changed": [view.row(r) for r in doc.rows if r["id"] in ids],
            "removed": sorted((removed | before) - now), **history.labels(doc)}


@command("labels.apply")
def apply(args: dict, server: Any) -> dict:
    op = args.get("op")
    if not isinstance(op, dict):
        raise CommandError("'op' must be an object with a 'kind' (set, split, merge, delete, "
                           "replace, flag)", code=E_BAD_ARGS)

    def run(doc: store.LabelsDoc) -> Change:
        done = ops.apply(doc, op)
        extra = {k: v for k, v in done.items() if k not in ("changed", "removed")}
        return extra, set(done["changed"]), set(done["removed"])

    return _edit(args, run)


@command("labels.undo")
def undo(args: dict, server: Any) -> dict:
    return _edit(args, lambda doc: _entry_reply(history.undo(doc)))


@command("labels.redo")
def redo(args: dict, server: Any) -> dict:
    return _edit(args, lambda doc: _entry_reply(history.redo(doc)))


def _entry_reply(done: tuple[dict[str, Any], set[str], set[str]]) -> Change:
    item, changed, removed = done
    return {"label": item["label"]}, changed, removed
