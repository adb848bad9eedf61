"""Undo and redo of the table's edits, kept in ``labels.json`` (so they survive a restart).

An entry holds the rows an edit touched as they were before and after it (``before``,
``after``) and the sources it made cut (``cut_added``). Undoing removes the rows the edit
created, puts back those it removed, and restores on the rows it changed only the fields it
changed: a later change to another field (a transcription filling a row) is kept. Redo is
the same the other way round. At most ``MAX_ENTRIES`` entries are kept per stack.

Typing coalesces: consecutive ``set`` edits with the same ``coalesce`` key on the same rows
within ``COALESCE_S`` seconds are one entry (its ``before`` is the first one's).
"""

from __future__ import annotations

import copy
import time
from typing import Any

from backend.labels.store import LabelsDoc, sort_rows

MAX_ENTRIES = 500
COALESCE_S = 60.0


class NothingTo(ValueError):
    """``labels.undo`` with an empty undo stack (or redo with an empty redo stack)."""


def entry(label: str, before: list[dict[str, Any]], after: list[dict[str, Any]],
          cut_added: list[str] | None = None, coalesce: str | None = None,
          now: float | None = None) -> dict[str, Any]:
    return {"label": label, "before": copy.deepcopy(before), "after": copy.deepcopy(after),
            "cut_added": list(cut_added or []), "coalesce": coalesce,
            "time": time.time() if now is None else now}


def record(doc: LabelsDoc, new: dict[str, Any]) -> None:
    """Push an edit's entry (or fold it into the last one when it coalesces); clears redo."""
    doc.redo.clear()
    last = doc.undo[-1] if doc.undo else None
    if last is not None and _coalesces(last, new):
        last["after"], last["time"] = new["after"], new["time"]
        if last["before"] == last["after"]:  # typed back to what it was: no step left
            doc.undo.pop()
        return
    doc.undo.append(new)
    del doc.undo[:-MAX_ENTRIES]


def _coalesces(last: dict[str, Any], new: dict[str, Any]) -> bool:
    return (new["coalesce"] is not None and last.get("coalesce") == new["coalesce"]
            and _ids(last["after"]) == _ids(new["before"]) and not last.get("cut_added")
            and 0 <= new["time"] - float(last.get("time") or 0) <= COALESCE_S)


def _ids(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(r["id"] for r in rows)


def undo(doc: LabelsDoc) -> tuple[dict[str, Any], set[str], set[str]]:
    """Undo the last edit: (its entry, ids changed or restored, ids removed)."""
    if not doc.undo:
        raise NothingTo("nothing to undo")
    item = doc.undo.pop()
    changed, removed = _swap(doc, item, item["after"], item["before"])
    for sid in item.get("cut_added", []):
        if sid in doc.cut_sources:
            doc.cut_sources.remove(sid)
    doc.redo.append(item)
    del doc.redo[:-MAX_ENTRIES]
    return item, changed, removed


def redo(doc: LabelsDoc) -> tuple[dict[str, Any], set[str], set[str]]:
    if not doc.redo:
        raise NothingTo("nothing to redo")
    item = doc.redo.pop()
    changed, removed = _swap(doc, item, item["before"], item["after"])
    for sid in item.get("cut_added", []):
        if sid not in doc.cut_sources:
            doc.cut_sources.append(sid)
    doc.undo.append(item)
    del doc.undo[:-MAX_ENTRIES]
    return item, changed, removed


def _swap(doc: LabelsDoc, item: dict[str, Any], now_rows: list[dict[str, Any]],
          then_rows: list[dict[str, Any]]) -> tuple[set[str], set[str]]:
    """Turn the rows of ``now_rows`` back into ``then_rows`` (field by field)."""
    now = {r["id"]: r for r in now_rows}
    then = {r["id"]: r for r in then_rows}
    current = {r["id"]: r for r in doc.rows}
    missing = [rid for rid in now if rid not in current]
    if missing:
        raise NothingTo(f"cannot revert '{item['label']}': row {missing[0]} is gone "
                        "(the recording was cut again by a transcription)")
    removed = set(now) - set(then)
    doc.rows = [r for r in doc.rows if r["id"] not in removed]
    for rid, old in then.items():
        if rid not in now:
            doc.rows.append(copy.deepcopy(old))
            continue
        row = current[rid]
        for key, value in old.items():
            if now[rid].get(key) != value:
                row[key] = copy.deepcopy(value)
    sort_rows(doc)
    return set(then), removed


def forget(doc: LabelsDoc, ids: set[str]) -> None:
    """Drop the undo and redo entries that touch any of ``ids`` (rows replaced outside the
    history, by a transcription that cut their recording)."""
    def touches(item: dict[str, Any]) -> bool:
        return any(r["id"] in ids for r in item["before"] + item["after"])

    doc.undo[:] = [i for i in doc.undo if not touches(i)]
    doc.redo[:] = [i for i in doc.redo if not touches(i)]


def referenced(doc: LabelsDoc) -> set[str]:
    """The ids of the rows any undo or redo step holds."""
    return {r["id"] for item in doc.undo + doc.redo for r in item["before"] + item["after"]}


def labels(doc: LabelsDoc) -> dict[str, Any]:
    """``can_undo``, ``can_redo``, ``undo_label``, ``redo_label`` for the replies."""
    return {"can_undo": bool(doc.undo), "can_redo": bool(doc.redo),
            "undo_label": doc.undo[-1]["label"] if doc.undo else None,
            "redo_label": doc.redo[-1]["label"] if doc.redo else None}
