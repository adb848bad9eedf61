"""LabelsView: the rows of a ``labels.get`` reply and the rows shown (Qt-free).

The base of ``LabelsTable`` (desktop/components/labels_table.py): the rows by id, the rows
shown (``view``: the filters, then the sort; rows the user changes keep their place until
the filter or the sort changes, so a row never jumps away while it is read; a row a split
or an undo brings comes right after the row before it in its recording), the current row,
the undo state and a ``revision`` that moves on every change. Listeners hear
``(kind, ids)``: ``reset`` (other rows), ``layout`` (rows shown, or their order, changed),
``cells`` (those rows' cells changed) and ``state`` (anything else: current row, messages).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from desktop.components.labels_rows import Filters, Row, natural_order, sorted_ids

Listener = Callable[[str, list[str]], None]


@dataclass
class UndoState:
    can_undo: bool = False
    can_redo: bool = False
    undo_label: str = ""
    redo_label: str = ""


@dataclass
class _Loaded:
    speakers: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    default_speaker: str = ""
    summary: dict[str, Any] = field(default_factory=dict)


class LabelsView:
    def __init__(self) -> None:
        self.project: str | None = None
        self.rows: dict[str, Row] = {}
        self.view: list[str] = []  # the ids shown, in order
        self._natural: list[str] = []
        self.filters = Filters()
        self.sort: tuple[str | None, bool] = (None, False)
        self.current: str | None = None
        self.revision = 0
        self.doc_revision: int | None = None  # the backend's labels revision
        self.undo = UndoState()
        self.info = _Loaded()
        self.loaded = False
        self.error = ""  # the last failure in words ("" after a success)
        self.message = ""  # what the last op did, in words
        self._typed: dict[str, str] = {}  # row id -> text typed, not confirmed yet
        self._listeners: list[Listener] = []

    # listeners ----------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _changed(self, kind: str, ids: list[str] | None = None) -> None:
        self.revision += 1
        for listener in list(self._listeners):
            listener(kind, list(ids or []))

    # reading ------------------------------------------------------------------------------
    def row(self, rid: str) -> Row:
        """The row as shown: the text being typed replaces the saved one."""
        row = self.rows[rid]
        typed = self._typed.get(rid)
        return row if typed is None else {**row, "text": typed}

    def shown(self) -> list[Row]:
        return [self.row(rid) for rid in self.view]

    def index_of(self, rid: str | None) -> int:
        try:
            return self.view.index(rid) if rid is not None else -1
        except ValueError:
            return -1

    @property
    def current_row(self) -> Row | None:
        return self.row(self.current) if self.current in self.rows else None

    def _clear(self) -> None:
        self.rows, self.view, self._natural = {}, [], []
        self.current, self.doc_revision, self.loaded = None, None, False
        self.undo, self.info, self.error, self.message = UndoState(), _Loaded(), "", ""
        self._typed.clear()

    def _apply_get(self, result: dict[str, Any]) -> None:
        rows = [r for r in result.get("rows") or [] if isinstance(r, dict) and "id" in r]
        self.rows = {str(r["id"]): r for r in rows}
        self._natural = natural_order(rows)
        self.info = _Loaded([str(s) for s in result.get("speakers") or []],
                            [str(s) for s in result.get("languages") or []],
                            str(result.get("default_speaker") or ""),
                            dict(result.get("summary") or {}))
        self._apply_state(result)
        again, self.loaded = self.loaded, True
        self._refilter(reset=not again)  # read again: rows keep their editors

    def _apply_state(self, result: dict[str, Any]) -> None:
        if isinstance(result.get("revision"), int):
            self.doc_revision = result["revision"]
        self.undo = UndoState(bool(result.get("can_undo")), bool(result.get("can_redo")),
                              str(result.get("undo_label") or ""),
                              str(result.get("redo_label") or ""))

    # filters, sort, current ---------------------------------------------------------------
    def set_filters(self, filters: Filters) -> None:
        if filters != self.filters:
            self.filters = filters
            self._refilter()

    def set_sort(self, column: str | None, descending: bool = False) -> None:
        self.sort = (column, descending)
        self._refilter()

    def _refilter(self, reset: bool = False) -> None:
        column, descending = self.sort
        ids = [rid for rid in self._natural if self.filters.matches(self.row(rid))]
        self.view = sorted_ids(self.rows, ids, column, descending)
        if self.current not in self.view:
            self.current = self.view[0] if self.view else None
        self._changed("reset" if reset else "layout")

    def set_current(self, rid: str | None) -> bool:
        if rid is not None and rid not in self.rows:
            return False
        if rid != self.current:
            self.current = rid
            self._changed("state")
        return True

    def move(self, delta: int) -> str | None:
        if not self.view:
            return None
        at = self.index_of(self.current)
        at = 0 if at < 0 else max(0, min(len(self.view) - 1, at + delta))
        self.set_current(self.view[at])
        return self.current

    def next_flagged(self) -> str | None:
        """The next shown row with a flag after the current one (around the end); None and a
        message when no shown row is flagged."""
        start = self.index_of(self.current)
        n = len(self.view)
        for step in range(1, n + 1):
            rid = self.view[(start + step) % n]
            if self.rows[rid].get("flag"):
                self.set_current(rid)
                return rid
        self._say("No shown row is flagged.")
        return None

    def next_in_recording(self, rid: str) -> str | None:
        """The row after ``rid`` in its recording (what a merge joins it with)."""
        at = self._natural.index(rid)
        nxt = self._natural[at + 1] if at + 1 < len(self._natural) else None
        same = nxt is not None and self.rows[nxt].get("source_id") == \
            self.rows[rid].get("source_id")
        return nxt if same else None

    # replies ------------------------------------------------------------------------------
    def _apply_rows(self, changed: list[Row], removed: list[str]) -> None:
        """A reply's ``changed`` and ``removed`` rows."""
        removed = [rid for rid in removed if rid in self.rows]
        new = [str(r["id"]) for r in changed if str(r["id"]) not in self.rows]
        for r in changed:
            self.rows[str(r["id"])] = r
        for rid in removed:
            del self.rows[rid]
        self._natural = natural_order(self.rows.values())
        if new or removed:
            self._place(new, removed)
        else:
            self._changed("cells", [str(r["id"]) for r in changed])

    def _place(self, new: list[str], removed: list[str]) -> None:
        """Removed rows leave the view (the current row moves to the next one); new rows
        come right after the row before them in their recording."""
        at = self.index_of(self.current)
        self.view = [rid for rid in self.view if rid not in removed]
        for rid in sorted(new, key=self._natural.index):
            self._insert(rid)
        if self.current in removed:
            self.current = self.view[min(at, len(self.view) - 1)] if self.view else None
        self._changed("layout")

    def _insert(self, rid: str) -> None:
        shown = set(self.view)
        at = self._natural.index(rid)
        before = next((r for r in reversed(self._natural[:at]) if r in shown), None)
        after = next((r for r in self._natural[at + 1:] if r in shown), None)
        if before is not None and self.rows[before].get("source_id") == \
                self.rows[rid].get("source_id"):
            self.view.insert(self.view.index(before) + 1, rid)
        elif self.filters.matches(self.rows[rid]):
            self.view.insert(self.view.index(after) if after is not None else len(self.view),
                             rid)


    def _say(self, text: str, error: bool = False) -> bool:
        self.error, self.message = (text, "") if error else ("", text)
        self._changed("state")
        return False
