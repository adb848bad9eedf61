"""Project picker: New project dialog, Open (folder picker) and the recent list."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.components.settings import AppSettings
from desktop.ui import file_dialogs
from desktop.ui.elided_label import QtElidedLabel
from desktop.ui.project_controller import ProjectController

SAMPLE_RATES = (32000, 40000, 48000)
MODEL_KINDS = (("rvc", "RVC voice conversion"), ("vits", "VITS text-to-speech"))


class QtNewProjectDialog(QDialog):
    """Name, parent folder, sample rate and model kind. The backend names the project
    folder after the name (made safe for file names); the name is kept as typed."""

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New project")
        self.settings = settings
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. My voice")
        self.folder_edit = QLineEdit(settings.last_folder("new_project"))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._on_browse_clicked)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)
        self.rate_box = QComboBox()
        for rate in SAMPLE_RATES:
            self.rate_box.addItem(f"{rate // 1000} kHz", rate)
        self.rate_box.setCurrentIndex(1)
        self.kind_box = QComboBox()
        for key, label in MODEL_KINDS:
            self.kind_box.addItem(label, key)
        self.error_label = QtElidedLabel(lines=3)
        self.error_label.setObjectName("new_project_error")
        self.error_label.setStyleSheet("color: #b00020")
        self.name_edit.textChanged.connect(self._on_fields_edited)
        self.folder_edit.textChanged.connect(self._on_fields_edited)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                                        QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Name:", self.name_edit)
        form.addRow("Create in folder:", folder_row)
        form.addRow("Sample rate:", self.rate_box)
        form.addRow("Model:", self.kind_box)
        form.addRow(self.error_label)
        form.addRow(self.buttons)

    def values(self) -> dict:
        name = self.name_edit.text().strip()
        return {"parent": self.folder_edit.text().strip(), "name": name,
                "sample_rate": int(self.rate_box.currentData()),
                "model_kind": str(self.kind_box.currentData())}

    def problem(self) -> str | None:
        name = self.name_edit.text().strip()
        folder = self.folder_edit.text().strip()
        if not name:
            return "Give the project a name."
        if not folder or not Path(folder).is_dir():
            return f"The folder {folder!r} does not exist; choose an existing folder."
        return None

    def _on_browse_clicked(self) -> None:
        typed = self.folder_edit.text().strip()
        folder = file_dialogs.open_folder(self, self.settings, "new_project",
                                          "Create the project in",
                                          start=typed if typed and Path(typed).is_dir() else None)
        if folder:
            self.folder_edit.setText(folder)

    def _on_fields_edited(self, _text: str) -> None:
        """A shown error follows the fields: it goes once its cause is fixed."""
        if self.error_label.text():
            self.error_label.setText(self.problem() or "")

    def _on_buttons_accepted(self) -> None:
        problem = self.problem()
        if problem:
            self.error_label.setText(problem)
            return
        self.settings.set_last_folder("new_project", self.folder_edit.text().strip())
        self.accept()


class QtProjectPicker(QWidget):
    """The start page: New…, Open…, and recent projects (double-click opens)."""

    sig_open_requested = Signal(str)

    def __init__(self, controller: ProjectController, settings: AppSettings,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.settings = settings
        title = QLabel("<h2>Timbre Studio</h2>Turn a folder of recordings into a voice model.")
        new_btn = QPushButton("New project…")
        new_btn.clicked.connect(self.new_project)
        open_btn = QPushButton("Open project…")
        open_btn.clicked.connect(self.open_project_dialog)
        buttons = QHBoxLayout()
        buttons.addWidget(new_btn)
        buttons.addWidget(open_btn)
        buttons.addStretch(1)
        self.recent_list = QListWidget()
        self.recent_list.itemActivated.connect(self._on_recent_list_activated)
        self.error_label = QtElidedLabel(lines=3)
        self.error_label.setStyleSheet("color: #b00020")
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(buttons)
        layout.addWidget(QLabel("Recent projects (double-click to open):"))
        layout.addWidget(self.recent_list, 1)
        layout.addWidget(self.error_label)
        controller.sig_error.connect(self.error_label.setText)
        controller.project_changed.connect(lambda _s: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        self.recent_list.clear()
        for path in self.settings.recent_projects():
            item = QListWidgetItem(f"{Path(path).name}    —    {path}")
            item.setData(Qt.ItemDataRole.UserRole, path)
            if not Path(path).is_dir():
                item.setToolTip("This folder no longer exists")
                item.setForeground(Qt.GlobalColor.gray)
            self.recent_list.addItem(item)

    def new_project(self) -> None:
        dialog = QtNewProjectDialog(self.settings, self)
        dialog.accepted.connect(lambda: self.controller.create(**dialog.values()))
        dialog.open()  # non-blocking

    def open_project_dialog(self) -> None:
        folder = file_dialogs.open_folder(self, self.settings, "open_project",
                                          "Open project folder", remember_parent=True)
        if folder:
            self.open_path(folder)

    def open_path(self, path: str) -> None:
        self.error_label.clear()
        self.sig_open_requested.emit(path)
        self.controller.open(path)

    def _on_recent_list_activated(self, item: QListWidgetItem) -> None:
        self.open_path(str(item.data(Qt.ItemDataRole.UserRole)))
