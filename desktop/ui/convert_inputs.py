"""QtConvertInputs: the recordings queued for conversion (``ConvertSession.inputs``).

Add files… / Add folder… (``file_dialogs`` purpose ``convert_input``), Remove, Clear; the
page adds what is dropped on it through ``add_paths``. Folders are shown as such; the
backend expands them when converting. ``sig_changed`` follows every change.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QGroupBox, QListWidget, QPushButton, QVBoxLayout, QWidget

from desktop.components.convert_session import AUDIO_FILTER, ConvertSession
from desktop.components.settings import AppSettings
from desktop.ui import file_dialogs


class QtConvertInputs(QGroupBox):
    sig_changed = Signal()

    def __init__(self, session: ConvertSession, settings: AppSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__("Recordings to convert", parent)
        self.session, self.app_settings = session, settings
        self.list = QListWidget()
        self.list.setObjectName("convert_inputs")
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.list.setMinimumHeight(60)
        self.list.setMaximumHeight(120)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.list.setToolTip("Drop audio files or folders anywhere on this page.")
        self.add_files_btn = QPushButton("Add files…")
        self.add_folder_btn = QPushButton("Add folder…")
        self.remove_btn = QPushButton("Remove")
        self.clear_btn = QPushButton("Clear")
        self.add_files_btn.clicked.connect(self._on_add_files)
        self.add_folder_btn.clicked.connect(self._on_add_folder)
        self.remove_btn.clicked.connect(self._on_remove)
        self.clear_btn.clicked.connect(self._on_clear)
        buttons = QGridLayout()  # two by two: the column stays narrow
        for n, b in enumerate((self.add_files_btn, self.add_folder_btn, self.remove_btn,
                               self.clear_btn)):
            buttons.addWidget(b, n // 2, n % 2)
        buttons.setColumnStretch(2, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addLayout(buttons)

    def add_paths(self, paths: list[str]) -> list[str]:
        """Queue files and folders; the problems in words (what was not queued)."""
        problems = self.session.add(paths)
        self.show_inputs()
        return problems

    def show_inputs(self) -> None:
        self.list.clear()
        for path in self.session.inputs:
            self.list.addItem(path + ("  (folder)" if Path(path).is_dir() else ""))
            self.list.item(self.list.count() - 1).setToolTip(path)
        self.sig_changed.emit()

    def pick_files(self) -> list[str]:
        """Files chosen by the user (tests replace this)."""
        return file_dialogs.open_files(self, self.app_settings, "convert_input",
                                       "Recordings to convert", AUDIO_FILTER)

    def pick_folder(self) -> str:
        return file_dialogs.open_folder(self, self.app_settings, "convert_input",
                                        "A folder of recordings to convert")

    def _on_add_files(self) -> None:
        files = self.pick_files()
        if files:
            self.add_paths(files)

    def _on_add_folder(self) -> None:
        folder = self.pick_folder()
        if folder:
            self.add_paths([folder])

    def _on_remove(self) -> None:
        self.session.remove([self.list.row(i) for i in self.list.selectedItems()])
        self.show_inputs()

    def _on_clear(self) -> None:
        self.session.clear()
        self.show_inputs()
