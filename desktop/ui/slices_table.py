"""The prepared slices of a project, listed from ``project.slices``."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

COLUMNS = ("Slice", "Source", "From", "To", "Length", "Problems")


def slice_for_editor(row: dict[str, Any]) -> dict[str, Any]:
    """``project.slices`` names the source file ``source`` and its id ``source_id``;
    the editor wants the id under ``source``."""
    return {**row, "source_path": row.get("source"), "source": row.get("source_id")}


class QtSlicesTable(QTableWidget):
    sig_slice_activated = Signal(dict)  # a slice (editor form) on double-click

    def __init__(self, client: Any, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self._client = client
        self._rows: list[dict[str, Any]] = []
        self._project: str | None = None
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.cellDoubleClicked.connect(self._on_table_double_clicked)

    def load(self, project_path: str | None) -> None:
        self._project = project_path
        if project_path is None:
            self.set_rows([])
            return
        self._client.request("project.slices", {"path": project_path},
                             on_result=lambda r, p=project_path: self._on_slices(p, r),
                             on_error=lambda _e: self.set_rows([]))

    def _on_slices(self, project_path: str, result: dict) -> None:
        if project_path == self._project:
            self.set_rows([s for s in result.get("slices", []) if isinstance(s, dict)])

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        self._rows = rows
        self.setRowCount(len(rows))
        for r, s in enumerate(rows):
            problems = "; ".join(p.get("message", "") for p in s.get("problems") or [])
            name = str(s.get("source") or "").replace("\\", "/").rsplit("/", 1)[-1]
            cells = (s.get("name", ""), name, f"{float(s.get('start', 0)):.2f} s",
                     f"{float(s.get('end', 0)):.2f} s", f"{float(s.get('duration', 0)):.2f} s",
                     problems)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(str(text))
                item.setToolTip(str(text))
                self.setItem(r, c, item)

    def rows(self) -> list[dict[str, Any]]:
        return list(self._rows)

    def _on_table_double_clicked(self, row: int, _col: int) -> None:
        if 0 <= row < len(self._rows):
            self.sig_slice_activated.emit(slice_for_editor(self._rows[row]))
