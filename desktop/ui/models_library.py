"""QtModelsLibrary: the voice models (the open project's exports and the library), as a table.

It views a ``ModelsLibrary`` (desktop/components/models_library.py) and asks the backend
itself: ``models.list {project?}`` when first shown, when the project changes and on
Refresh; ``models.import {path}`` (a ``.pth`` or a package ``.zip``; the backend finds the
index beside it) and ``models.remove {id}``. Errors show the backend's message and what
to do (``not_a_voice_model``, ``unsafe_file``). Preview is the page's (it runs a job):
the button emits ``sig_preview``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QGroupBox,
    QHeaderView,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.components.models_library import COLUMNS, MODEL_FILTER, Model, ModelsLibrary
from desktop.components.request_book import InFlight
from desktop.components.settings import AppSettings
from desktop.ui import file_dialogs
from desktop.ui.elided_label import QtElidedLabel

ERROR_STYLE = "color: #b00020;"
TABLE_ROWS = 4  # the table shows this many rows before it scrolls


class QtModelsLibrary(QGroupBox):
    sig_selected = Signal(object)  # Model | None
    sig_preview = Signal()

    def __init__(self, client, settings: AppSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__("Voice model", parent)
        self.client, self.app_settings = client, settings
        self.library = ModelsLibrary()
        self.busy = ""  # the import/remove on its way ("" when none)
        self.preview_busy = False  # the page's preview job runs
        self._asked = InFlight()
        self._build()

    def _build(self) -> None:
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("models_table")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        row_h = self.table.verticalHeader().defaultSectionSize()
        self.table.setMinimumHeight(header.sizeHint().height() + 2 * row_h + 4)
        self.table.setMaximumHeight(header.sizeHint().height() + TABLE_ROWS * row_h + 4)
        self.table.itemSelectionChanged.connect(self._on_table_selection)
        self.details = QtElidedLabel(lines=2, elide=Qt.TextElideMode.ElideMiddle)
        self.message = QtElidedLabel(lines=4)
        self.message.setObjectName("models_message")
        self.import_btn = QPushButton("Import…")
        self.import_btn.setToolTip("Add an RVC weights file (.pth) or a model package (.zip) "
                                   "to the library; its index (.index) is found beside it.")
        self.remove_btn = QPushButton("Remove")
        self.preview_btn = QPushButton("Preview")
        self.preview_btn.setToolTip("Convert a short built-in phrase with this model and "
                                    "the settings below, and play it.")
        self.refresh_btn = QPushButton("Refresh")
        self.import_btn.clicked.connect(lambda: self.import_file())
        self.remove_btn.clicked.connect(lambda: self.remove_selected())
        self.preview_btn.clicked.connect(self.sig_preview)
        self.refresh_btn.clicked.connect(lambda: self.refresh())
        buttons = QGridLayout()  # two by two: the left column stays narrow
        for n, b in enumerate((self.import_btn, self.remove_btn, self.preview_btn,
                               self.refresh_btn)):
            buttons.addWidget(b, n // 2, n % 2)
        buttons.setColumnStretch(2, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(self.details)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        self._show()

    # requests ------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if not self.library.loaded:
            self.refresh()

    def set_project(self, path: str | None) -> None:
        if path != self.library.project:
            self.library.project = path
            if self.library.loaded or self.isVisible():
                self.refresh()

    def refresh(self) -> bool:
        """``models.list`` (once while an answer is on its way)."""
        args = self.library.list_args()
        return self._asked.ask(
            "list", lambda ok, err: self.client.request("models.list", args, ok, err),
            lambda result: self._on_listed(args, result),
            lambda err: self._after(lambda: self.library.list_failed(err.code, err.message)))

    def _on_listed(self, args: dict, result: dict) -> None:
        if args != self.library.list_args():
            self.refresh()  # the project changed meanwhile: ask again
            return
        self._after(lambda: self.library.set_listing(result))

    def pick_model_file(self) -> str:
        """A model file chosen by the user ("" if cancelled). Tests replace this."""
        return file_dialogs.open_file(self, self.app_settings, "voice_model",
                                      "Import a voice model", MODEL_FILTER)

    def import_file(self, path: str | None = None) -> str | None:
        if self.busy:
            return None
        path = path or self.pick_model_file()
        if not path:
            return None
        self.busy = f"Importing {path}…"
        self._show()
        return self.client.request(
            "models.import", {"path": path},
            lambda result: self._after(lambda: self.library.imported(result)),
            lambda err: self._after(lambda: self.library.import_failed(path, err.code,
                                                                       err.message)))

    def confirm_remove(self, model: Model) -> bool:
        """Ask before removing (tests replace this)."""
        answer = QMessageBox.question(
            self, "Remove the model",
            f"Remove {model.name} from the library? Its files in the library folder are "
            "deleted; the file you imported it from is not touched.")
        return answer == QMessageBox.StandardButton.Yes

    def remove_selected(self) -> str | None:
        model = self.library.selected
        if self.busy or model is None or self.library.remove_blocker():
            return None
        if not self.confirm_remove(model):
            return None
        self.busy = f"Removing {model.name}…"
        self._show()
        return self.client.request(
            "models.remove", {"id": model.id},
            lambda result: self._after(lambda: self.library.removed(
                str(result.get("removed") or model.id))),
            lambda err: self._after(lambda: self.library.remove_failed(err.code,
                                                                       err.message)))

    def _after(self, change) -> None:
        """An answer came: apply it, show it, tell the page which model is selected."""
        self.busy = ""
        change()
        self._show()
        self.sig_selected.emit(self.library.selected)

    # view ------------------------------------------------------------------------------------
    def _on_table_selection(self) -> None:
        rows = {i.row() for i in self.table.selectedItems()}
        model = self.library.models[min(rows)] if rows else None
        if (model.id if model else None) != self.library.selected_id and model is not None:
            self.library.select(model.id)
            self._show_buttons()
            self.sig_selected.emit(model)

    def _show(self) -> None:
        lib = self.library
        self.table.blockSignals(True)
        self.table.setRowCount(len(lib.models))
        for r, model in enumerate(lib.models):
            for c, text in enumerate(model.cells()):
                item = QTableWidgetItem(text)
                item.setToolTip(model.details())
                self.table.setItem(r, c, item)
        self.table.clearSelection()
        at = lib.index_of(lib.selected_id)
        if at >= 0:
            self.table.selectRow(at)
        self.table.blockSignals(False)
        if lib.error:
            text = lib.error
        elif self.busy:
            text = self.busy
        elif lib.loaded and not lib.models:
            text = ("No voice models yet: export one from the Train page, or import an RVC "
                    ".pth or a model package .zip.")
        else:
            text = lib.message
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if lib.error else "")
        self._show_buttons()

    def _show_buttons(self) -> None:
        model = self.library.selected
        self.details.setText(model.details() if model else "")
        blocker = self.library.remove_blocker()
        self.remove_btn.setEnabled(not self.busy and not blocker)
        self.remove_btn.setToolTip(blocker or "Remove the selected model from the library.")
        self.import_btn.setEnabled(not self.busy)
        self.preview_btn.setEnabled(model is not None and not self.preview_busy)

    def set_preview_busy(self, busy: bool) -> None:
        self.preview_busy = busy
        self._show_buttons()

    def selected(self) -> Model | None:
        return self.library.selected

    def error_text(self) -> str:
        return self.library.error
