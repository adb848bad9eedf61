"""QtLabelsTable: the Labels page's proofreading table, a ``QTableView`` of a ``LabelsTable``.

Keyboard first (while the table has the focus and no cell is edited): Up/Down move, Enter
edits the current cell in place (the text when the current column cannot be edited; the
text editor wraps, Enter commits, Shift+Enter breaks the line, Escape puts the text back),
Space plays the row (``audio.play`` of its recording from its start to its end; Space again
stops), S splits (the split dialog, desktop/ui/labels_split.py), M merges with the next
clip of the recording, Del (or Backspace) deletes, F flags (or clears the flags of rows
that have one), N goes to the next flagged row, Ctrl+Z undoes, Ctrl+Shift+Z (or Ctrl+Y)
redoes. A click on
a header sorts by that column; a second click reverses it. Long text is cut with "…" in its
cell (its tooltip has it whole); the table never grows wider than the page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from desktop.components.clip_names import file_name
from desktop.components.labels_rows import COLUMNS, EDITABLE, clip_text
from desktop.components.labels_table import LabelsTable
from desktop.ui.labels_cells import QtLabelsDelegate, QtLabelsModel

try:  # the desktop-tools part; the table works without it (no split by dialog then)
    from desktop.ui.labels_split import QtSplitDialog
except ImportError:  # pragma: no cover - depends on the build
    QtSplitDialog = None

NO_SPLIT_DIALOG = ("Splitting needs the split dialog (desktop/ui/labels_split.py), which "
                   "this build does not have.")
WIDTHS = {"clip": 170, "language": 70, "speaker": 90, "duration": 64, "confidence": 80,
          "flag": 100}
TEXT = COLUMNS.index("text")
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


class QtLabelsTable(QTableView):
    sig_message = Signal(str, bool)  # a message for the page's status line, is it an error
    sig_current = Signal(object)  # the current row (dict) or None

    def __init__(self, table: LabelsTable, client: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("labels_table")
        self.table, self.client = table, client
        self.labels_model = QtLabelsModel(table, self)
        self.setModel(self.labels_model)
        self.delegate = QtLabelsDelegate(table, self)
        self.delegate.sig_typed = self._typed
        self.setItemDelegate(self.delegate)
        self.playing: str | None = None  # the row being played
        self.play_id: Any = None
        self._answered = False  # the audio.play answer came (its play_id is known)
        self._syncing = False
        self._typing = QTimer(self)
        self._typing.setSingleShot(True)
        self._typing.timeout.connect(self._flush_typing)
        self._setup_view()
        self.selectionModel().currentRowChanged.connect(self._on_current_changed)
        table.subscribe(self._on_table)
        client.sig_event.connect(self._on_event)

    def _setup_view(self) -> None:
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setWordWrap(False)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setMinimumSectionSize(40)
        for n, column in enumerate(COLUMNS):
            if column == "text":
                header.setSectionResizeMode(n, QHeaderView.ResizeMode.Stretch)
            else:
                header.setSectionResizeMode(n, QHeaderView.ResizeMode.Interactive)
                self.setColumnWidth(n, WIDTHS[column])
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(False)
        header.sectionClicked.connect(self._on_header_clicked)

    # rows and current row -----------------------------------------------------------------
    def _on_table(self, kind: str, _ids: list[str]) -> None:
        if kind in ("reset", "layout", "state"):
            self._show_current()

    def _show_current(self) -> None:
        row = self.labels_model.row_of(self.table.current)
        index = self.currentIndex()
        if row >= 0 and index.row() != row:
            self._syncing = True
            column = index.column() if index.isValid() else TEXT
            self.selectionModel().setCurrentIndex(
                self.labels_model.index(row, column),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)
            self.scrollTo(self.labels_model.index(row, column))
            self._syncing = False
        self.sig_current.emit(self.table.current_row)

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not self._syncing:
            self.table.set_current(self.labels_model.rid_at(current.row()))

    def selected_ids(self) -> list[str]:
        """The selected rows, in the order shown (the current row when none is)."""
        rows = sorted({i.row() for i in self.selectionModel().selectedRows()})
        ids = [rid for rid in map(self.labels_model.rid_at, rows) if rid is not None]
        if not ids and self.table.current is not None:
            ids = [self.table.current]
        return ids

    def _on_header_clicked(self, section: int) -> None:
        column, descending = self.table.sort
        descending = not descending if column == COLUMNS[section] else False
        header = self.horizontalHeader()
        header.setSortIndicatorShown(True)
        header.setSortIndicator(section, Qt.SortOrder.DescendingOrder if descending
                                else Qt.SortOrder.AscendingOrder)
        self.table.set_sort(COLUMNS[section], descending)

    # keys ---------------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if self.state() == QAbstractItemView.State.EditingState or not self._key(event):
            super().keyPressEvent(event)

    def _key(self, event: QKeyEvent) -> bool:
        key, mods = event.key(), event.modifiers()
        ctrl, shift = bool(mods & CTRL), bool(mods & SHIFT)
        if ctrl and key == Qt.Key.Key_Z:
            return self.redo() if shift else self.undo()
        if ctrl and key == Qt.Key.Key_Y:
            return self.redo()
        if mods & ~(SHIFT | Qt.KeyboardModifier.KeypadModifier):
            return False
        actions = {Qt.Key.Key_Space: self.toggle_play, Qt.Key.Key_S: self.split_current,
                   Qt.Key.Key_M: self.merge_current, Qt.Key.Key_Delete: self.delete_selected,
                   Qt.Key.Key_Backspace: self.delete_selected,
                   Qt.Key.Key_F: self.flag_selected, Qt.Key.Key_N: self.table.next_flagged,
                   Qt.Key.Key_Return: self.edit_current, Qt.Key.Key_Enter: self.edit_current}
        action = actions.get(Qt.Key(key))
        if action is None:
            return False
        action()
        return True

    # actions ------------------------------------------------------------------------------
    def edit_current(self) -> bool:
        index = self.currentIndex()
        if not index.isValid():
            return False
        if COLUMNS[index.column()] not in EDITABLE:
            index = self.labels_model.index(index.row(), TEXT)
            self.setCurrentIndex(index)
        return self.edit(index, QAbstractItemView.EditTrigger.EditKeyPressed, None)

    def undo(self) -> bool:
        return self.table.undo_last()

    def redo(self) -> bool:
        return self.table.redo_last()

    def merge_current(self) -> bool:
        return self.table.current is not None and self.table.merge(self.table.current)

    def delete_selected(self) -> bool:
        return self.table.delete(self.selected_ids())

    def flag_selected(self) -> bool:
        return self.table.toggle_flag(self.selected_ids())

    def split_current(self, at: float | None = None, text_at: int | None = None) -> bool:
        """Split the current row at ``at`` seconds (asked in the split dialog when None)."""
        row = self.table.current_row
        if row is None:
            return False
        if at is None:
            choice = self.ask_split(row)
            if choice is None:
                return False
            at, text_at = choice
        return self.table.split(row["id"], float(at), text_at)

    def ask_split(self, row: dict[str, Any]) -> tuple[float, int | None] | None:
        """Where to split (None: cancelled). Tests replace this."""
        if QtSplitDialog is None:
            self.sig_message.emit(NO_SPLIT_DIALOG, True)
            return None
        project = self.table.project  # the waveform analysis goes with the project's caches
        cache = str(Path(project) / "cache") if project else None  # as ProjectState.cache_dir
        dialog = QtSplitDialog(row, self.client, self, cache_dir=cache)
        dialog.exec()
        choice = dialog.result()
        return choice if isinstance(choice, tuple) else None

    # typing -------------------------------------------------------------------------------
    def _typed(self) -> None:
        due = self.table.typing_due_in()
        if due is not None:
            self._typing.start(int(due * 1000) + 1)

    def _flush_typing(self) -> None:
        if not self.table.flush_typing():
            self._typed()  # typed again meanwhile: wait for the pause

    # playback -----------------------------------------------------------------------------
    def toggle_play(self) -> str | None:
        """Space: play the current row; again: stop."""
        row = self.table.current_row
        if self.playing is not None and (row is None or row["id"] == self.playing):
            return self.stop()
        return self.play(row) if row is not None else None

    def play(self, row: dict[str, Any]) -> str | None:
        path = row.get("source_path")
        if not path:
            self.sig_message.emit("This row's recording is not known: nothing to play.", True)
            return None
        args = {"path": path, "start": row.get("start"), "end": row.get("end")}
        self.playing, self.play_id, self._answered = row["id"], None, False
        self.sig_message.emit(f"Playing {clip_text(row)} (Space stops)", False)

        def started(answer: dict[str, Any]) -> None:
            if self.playing == row["id"]:
                self.play_id, self._answered = answer.get("play_id"), True

        def failed(err: Any) -> None:
            if self.playing == row["id"]:
                self.playing = None
            self.sig_message.emit(f"Could not play {file_name(path)}: "
                                  f"{getattr(err, 'message', err)}", True)

        return self.client.request("audio.play", args, started, failed)

    def stop(self) -> str:
        self.playing = self.play_id = None
        self.sig_message.emit("", False)
        return self.client.request("audio.stop", {})

    def _on_event(self, ev: Any) -> None:
        if ev.event != "audio.finished" or self.playing is None:
            return
        if self._answered and (self.play_id is None or ev.data.get("play_id") == self.play_id):
            self.playing = self.play_id = None
            self.sig_message.emit("", False)
