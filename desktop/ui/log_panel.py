"""QtLogPanel: a read-only view of a LogModel, with a minimum-level filter."""

from __future__ import annotations

import shiboken6
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.components.log_model import LEVELS, LogEntry, LogModel, normalise_level


class QtLogPanel(QWidget):
    def __init__(self, model: LogModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.text = QPlainTextEdit(readOnly=True)
        self.text.setMaximumBlockCount(model.capacity)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.level_box = QComboBox()
        self.level_box.addItems(list(LEVELS))
        self.level_box.setCurrentText("info")
        self.level_box.currentTextChanged.connect(self._on_level_box_changed)
        clear = QPushButton("Clear")
        clear.clicked.connect(self._on_clear_clicked)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Show from level:"))
        bar.addWidget(self.level_box)
        bar.addStretch(1)
        bar.addWidget(clear)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.text)
        model.subscribe(self._on_model_entry)
        self._rebuild()

    def _min_index(self) -> int:
        return LEVELS.index(normalise_level(self.level_box.currentText()))

    def _on_model_entry(self, entry: LogEntry) -> None:
        if not shiboken6.isValid(self):  # the window is gone; the model outlives it
            return
        if LEVELS.index(entry.level) >= self._min_index():
            self.text.appendPlainText(entry.format())

    def _on_level_box_changed(self, _level: str) -> None:
        self._rebuild()

    def _on_clear_clicked(self) -> None:
        self.model.clear()
        self.text.clear()

    def _rebuild(self) -> None:
        self.text.setPlainText("\n".join(e.format() for e in
                                         self.model.entries(self.level_box.currentText())))

    def plain_text(self) -> str:
        return self.text.toPlainText()
