"""The Qt side of the Labels table's cells: ``QtLabelsModel``, a ``QAbstractTableModel`` over a
``LabelsTable``, and ``QtLabelsDelegate``, whose text editor wraps and sends what is typed.

The model keeps its own copy of the ids shown and follows the table's listeners: ``reset``
resets it, ``layout`` moves every persistent index (an open editor, the current index) to
its row's new place, ``cells`` repaints those rows. Sorting by a header is the table's
(``LabelsTable.set_sort``).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QPlainTextEdit,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from desktop.components.labels_rows import (
    COLUMNS,
    EDITABLE,
    TITLES,
    cell,
    tooltip,
    typed_value,
)
from desktop.components.labels_table import LabelsTable

FLAGGED_BG = QColor(255, 236, 204)  # a flagged row: light orange
STALE_FG = QColor(140, 140, 140)
RIGHT = ("duration", "confidence")
EDITOR_LINES = 4  # the text editor is this many lines tall (it wraps; it never widens)
Index = QModelIndex | QPersistentModelIndex


class QtLabelsModel(QAbstractTableModel):
    def __init__(self, table: LabelsTable, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.table = table
        self._ids: list[str] = list(table.view)
        table.subscribe(self._on_table)

    # what the table says ------------------------------------------------------------------
    def _on_table(self, kind: str, ids: list[str]) -> None:
        if kind == "reset":
            self.beginResetModel()
            self._ids = list(self.table.view)
            self.endResetModel()
        elif kind == "layout":
            self._relayout()
        elif kind == "cells":
            for rid in ids:
                row = self.row_of(rid)
                if row >= 0:
                    self.dataChanged.emit(self.index(row, 0),
                                          self.index(row, len(COLUMNS) - 1))

    def _relayout(self) -> None:
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        ids = [self._ids[i.row()] if 0 <= i.row() < len(self._ids) else None for i in old]
        self._ids = list(self.table.view)
        at = {rid: n for n, rid in enumerate(self._ids)}
        new = [self.index(at[rid], i.column()) if rid in at else QModelIndex()
               for rid, i in zip(ids, old, strict=True)]
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()

    # lookups ------------------------------------------------------------------------------
    def row_of(self, rid: str | None) -> int:
        try:
            return self._ids.index(rid) if rid is not None else -1
        except ValueError:
            return -1

    def rid_at(self, row: int) -> str | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    # QAbstractTableModel -------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt API)
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt API)
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 (Qt API)
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(COLUMNS):
            return TITLES[COLUMNS[section]]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.isValid() and COLUMNS[index.column()] in EDITABLE:
            base |= Qt.ItemFlag.ItemIsEditable
        return base

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        rid = self.rid_at(index.row())
        if rid is None or rid not in self.table.rows:
            return None
        row, column = self.table.row(rid), COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return cell(row, column)
        if role == Qt.ItemDataRole.EditRole:
            return str(row.get(column) or "")
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(row, column) or None
        if role == Qt.ItemDataRole.BackgroundRole and row.get("flag"):
            return QBrush(FLAGGED_BG)
        if role == Qt.ItemDataRole.ForegroundRole and row.get("stale"):
            return QBrush(STALE_FG)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in RIGHT:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index: Index, value: Any,  # noqa: N802 (Qt API)
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        rid, column = self.rid_at(index.row()), COLUMNS[index.column()]
        if rid is None or role != Qt.ItemDataRole.EditRole or column not in EDITABLE:
            return False
        if column == "text":
            return self.table.commit_edit(str(value))
        return self.table.set_fields([rid], **{column: typed_value(column, str(value))})

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if 0 <= column < len(COLUMNS):
            self.table.set_sort(COLUMNS[column], order == Qt.SortOrder.DescendingOrder)


class QtTextCellEditor(QPlainTextEdit):
    """The text cell's editor: wraps long text (never wider than the column); Enter
    commits, Shift+Enter is a line break, Escape puts the text back."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("labels_text_editor")
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTabChangesFocus(True)


class QtLabelsDelegate(QStyledItemDelegate):
    def __init__(self, table: LabelsTable, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.table = table
        self.sig_typed = None  # set by the view: called after each keystroke

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,  # noqa: N802
                     index: Index) -> QWidget:
        if COLUMNS[index.column()] != "text":
            return super().createEditor(parent, option, index)
        rid = index.model().rid_at(index.row())
        editor = QtTextCellEditor(parent)
        edit = self.table.begin_edit(rid) if rid is not None else None
        editor.setPlainText(edit.text if edit is not None else "")
        editor.moveCursor(editor.textCursor().MoveOperation.End)
        editor.textChanged.connect(lambda: self._typed(editor))
        editor.setProperty("rid", rid)
        return editor

    def _session(self, editor: QtTextCellEditor) -> bool:
        """The table's editing of this editor's row (begun again when an op or an undo in
        between ended it: the editor stays open, its typing is a new step)."""
        rid = editor.property("rid")
        edit = self.table.editing
        if edit is not None and edit.rid == rid:
            return True
        return rid in self.table.rows and self.table.begin_edit(rid) is not None

    def _typed(self, editor: QtTextCellEditor) -> None:
        if self._session(editor):
            self.table.type_text(editor.toPlainText())
            if self.sig_typed is not None:
                self.sig_typed()

    def setEditorData(self, editor: QWidget, index: Index) -> None:  # noqa: N802 (Qt API)
        if isinstance(editor, QtTextCellEditor):
            return  # it holds what is typed; a repaint of its row never resets it
        super().setEditorData(editor, index)

    def setModelData(self, editor: QWidget, model, index: Index) -> None:  # noqa: N802
        if isinstance(editor, QtTextCellEditor):
            self._commit(editor)
            return
        super().setModelData(editor, model, index)

    def _commit(self, editor: QtTextCellEditor) -> None:
        rid, text = editor.property("rid"), editor.toPlainText()
        edit = self.table.editing
        if (edit is not None and edit.rid == rid) or (
                rid in self.table.rows and self.table.row(rid).get("text") != text
                and self._session(editor)):
            self.table.commit_edit(text)

    def destroyEditor(self, editor: QWidget, index: Index) -> None:  # noqa: N802 (Qt API)
        """However the editor goes (another row chosen, the page hidden), what was typed is
        saved."""
        if isinstance(editor, QtTextCellEditor) and not editor.property("cancelled"):
            self._commit(editor)
        super().destroyEditor(editor, index)

    def updateEditorGeometry(self, editor: QWidget, option: QStyleOptionViewItem,  # noqa
                             index: Index) -> None:
        rect = QRect(option.rect)
        if isinstance(editor, QtTextCellEditor):
            lines = editor.fontMetrics().lineSpacing() * EDITOR_LINES + 12
            rect.setHeight(max(rect.height(), lines))
            view = editor.parentWidget()
            if view is not None and rect.bottom() > view.height():
                rect.moveBottom(max(view.height(), rect.height()))
        editor.setGeometry(rect)

    def eventFilter(self, editor: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if isinstance(editor, QtTextCellEditor) and isinstance(event, QKeyEvent) \
                and event.type() == QEvent.Type.KeyPress:
            key = event
            enter = key.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            if enter and not key.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self.commitData.emit(editor)
                self.closeEditor.emit(editor, QAbstractItemDelegate.EndEditHint.NoHint)
                return True
            if key.key() == Qt.Key.Key_Escape:
                editor.setProperty("cancelled", True)
                if self.table.editing is not None and \
                        self.table.editing.rid == editor.property("rid"):
                    self.table.cancel_edit()
                self.closeEditor.emit(editor, QAbstractItemDelegate.EndEditHint.RevertModelCache)
                return True
        return super().eventFilter(editor, event)
