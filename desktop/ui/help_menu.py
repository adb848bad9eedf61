"""Help menu: About (app, torch, CUDA, devices), the log folder, the documentation.

The versions of torch and CUDA and the devices come from the backend
(``BackendClient.hello`` and ``ready_info``); the desktop never imports torch. Folders and
documents open with the system's viewer through ``open_url`` (``QDesktopServices.openUrl``
unless a test passes its own).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import PySide6
from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import QMainWindow, QMessageBox

from backend.resources import doc
from desktop import __version__
from desktop.backend_client import BackendClient
from desktop.components.about import about_lines

DOCS_PATH = doc()  # README.md, which links every doc in docs/

UrlOpener = Callable[[QUrl], bool]


class QtHelpMenu:
    def __init__(self, window: QMainWindow, client: BackendClient, log_dir: str | None,
                 open_url: UrlOpener | None = None) -> None:
        self.window, self.client, self.log_dir = window, client, log_dir
        self.open_url: UrlOpener = open_url or QDesktopServices.openUrl
        self.about_box: QMessageBox | None = None
        menu = window.menuBar().addMenu("&Help")
        self.about_action = QAction("&About Timbre Studio…", window)
        self.about_action.triggered.connect(self.show_about)
        self.log_action = QAction("Open the &log folder", window)
        self.log_action.triggered.connect(self.open_log_folder)
        if not log_dir:
            self.log_action.setEnabled(False)
            self.log_action.setToolTip("This session writes no log file")
        self.docs_action = QAction("&Documentation", window)
        self.docs_action.triggered.connect(self.open_docs)
        for action in (self.about_action, self.log_action, self.docs_action):
            menu.addAction(action)
        menu.setToolTipsVisible(True)
        self.menu = menu

    def about_text(self) -> str:
        return "\n".join(about_lines(__version__, PySide6.__version__, self.client.hello,
                                     self.client.ready_info))

    def show_about(self) -> QMessageBox:
        box = QMessageBox(QMessageBox.Icon.Information, "About Timbre Studio",
                          self.about_text(), QMessageBox.StandardButton.Ok, self.window)
        self.about_box = box
        box.open()  # non-blocking
        return box

    def open_log_folder(self) -> bool:
        if not self.log_dir:
            return False
        Path(self.log_dir).mkdir(parents=True, exist_ok=True)
        return self._open(QUrl.fromLocalFile(self.log_dir), f"the log folder {self.log_dir}")

    def open_docs(self) -> bool:
        return self._open(QUrl.fromLocalFile(str(DOCS_PATH)), f"the documentation {DOCS_PATH}")

    def _open(self, url: QUrl, what: str) -> bool:
        ok = bool(self.open_url(url))
        if not ok:
            self.window.statusBar().showMessage(f"Could not open {what}: no program to show it "
                                                "was found.", 15_000)
        return ok
