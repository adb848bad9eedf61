"""QtAssetMissingDialog: a feature needs a model file that is not installed.

Says which asset is missing and how big it is, and offers Download (the ``assets``
download job), Import file… (a file dialog, then the ``assets`` import job) and Cancel.
A page that can work with a file of the user's instead (a content encoder, pretrained
bases) passes ``use_file``: "Use another file…" picks one, hands it to ``use_file`` and
accepts the dialog. When the asset is installed the Retry button (``retry_text``)
becomes available; pressing it accepts the dialog, so the page that opened it can try
again (``dialog.accepted``). Messages wrap and the dialog grows to show them whole.
Non-blocking: open it with ``open()``. Any page can use it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backend.protocol import Error, Event
from desktop.backend_client import BackendClient
from desktop.components.assets import MissingAsset, error_text, format_size
from desktop.components.settings import AppSettings
from desktop.ui import file_dialogs

MIN_WIDTH = 480


class QtAssetMissingDialog(QDialog):
    sig_installed = Signal(str)  # the asset name, once downloaded or imported

    def __init__(self, client: BackendClient, missing: MissingAsset, *,
                 retry_text: str = "Retry", also_missing: list[MissingAsset] | None = None,
                 use_file: Callable[[str], None] | None = None,
                 use_file_purpose: str = "asset_import", settings: AppSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client, self.missing = client, missing
        self.settings, self.use_file, self.use_file_purpose = settings, use_file, use_file_purpose
        self.job_id: str | None = None  # "" = requested, id not known yet
        self.installed = False
        self.used_file = ""  # the file given to use_file
        self.setWindowTitle("A model file is missing")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(MIN_WIDTH)
        self._build(retry_text, also_missing or [])
        client.sig_job_event.connect(self._on_client_job_event)

    def _build(self, retry_text: str, also: list[MissingAsset]) -> None:
        text = self.missing.text()
        if also:
            text += "\n\nAlso missing: " + ", ".join(f"{m.name} ({m.size_text})" for m in also)
        self.text_label = QLabel(text)
        self.text_label.setWordWrap(True)
        self.text_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label = QLabel("")
        self.status_label.setObjectName("asset_dialog_status")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setVisible(False)
        self.download_btn = QPushButton(f"Download ({format_size(self.missing.size)})")
        self.import_btn = QPushButton("Import file…")
        self.import_btn.setToolTip(f"Check a copy you already have and install it as "
                                   f"{self.missing.name}")
        self.other_btn = QPushButton("Use another file…")
        self.other_btn.setToolTip("Use a file of yours instead, without installing it")
        self.other_btn.setVisible(self.use_file is not None)
        self.other_btn.clicked.connect(self._on_other_clicked)
        self.retry_btn = QPushButton(retry_text)
        self.retry_btn.setEnabled(False)
        self.cancel_btn = QPushButton("Cancel")
        self.download_btn.clicked.connect(self.download)
        self.import_btn.clicked.connect(self._on_import_clicked)
        self.retry_btn.clicked.connect(self.accept)
        self.cancel_btn.clicked.connect(self._on_cancel_clicked)
        buttons = QHBoxLayout()
        for b in (self.download_btn, self.import_btn, self.other_btn):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.retry_btn)
        buttons.addWidget(self.cancel_btn)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_label)
        layout.addLayout(buttons)

    def pick_file(self) -> str:
        """The file to import ("" if the user cancelled). Tests replace this."""
        return file_dialogs.open_file(self, self.settings, "asset_import",
                                      f"Import {self.missing.name}", file_dialogs.MODEL_FILTER)

    def pick_other_file(self) -> str:
        """The file to use instead ("" if the user cancelled). Tests replace this."""
        return file_dialogs.open_file(self, self.settings, self.use_file_purpose,
                                      f"A file to use instead of {self.missing.name}",
                                      file_dialogs.MODEL_FILTER)

    def _on_other_clicked(self) -> None:
        path = self.pick_other_file()
        if path and self.use_file is not None:
            self.used_file = path
            self.use_file(path)
            self.accept()

    def _set_status(self, text: str) -> None:
        """Show ``text`` whole: the label wraps and the dialog grows to fit it."""
        self.status_label.setText(text)
        layout = self.layout()
        if layout is None or not self.isVisible():
            return
        layout.activate()
        need = layout.totalHeightForWidth(self.width())
        if need > self.height():
            self.resize(self.width(), need)

    # actions ------------------------------------------------------------------------
    def download(self) -> str | None:
        return self._start({"action": "download", "name": self.missing.name},
                           f"Downloading {self.missing.name}…")

    def import_path(self, path: str) -> str | None:
        return self._start({"action": "import", "path": path, "name": self.missing.name},
                           f"Importing {Path(path).name}…")

    def _on_import_clicked(self) -> None:
        path = self.pick_file()
        if path:
            self.import_path(path)

    def _on_cancel_clicked(self) -> None:
        if self.job_id:
            self.client.cancel_job(self.job_id)
        self.reject()

    def _start(self, args: dict, text: str) -> str | None:
        if self.job_id is not None:
            return None
        self.job_id = ""
        self._set_busy(True)
        self._set_status(text)
        return self.client.start_job("assets", args, on_started=self._on_job_started,
                                     on_error=self._on_job_start_error,
                                     on_finished=self._on_job_finished)

    def _set_busy(self, busy: bool) -> None:
        for b in (self.download_btn, self.import_btn, self.other_btn):
            b.setEnabled(not busy and not self.installed)
        self.progress.setVisible(busy)
        if busy:
            self.progress.setRange(0, 0)

    # job ------------------------------------------------------------------------------
    def _on_job_started(self, job_id: str) -> None:
        self.job_id = job_id

    def _on_job_start_error(self, err: Error) -> None:
        self.job_id = None
        self._set_busy(False)
        self._set_status(error_text(err.code, err.message))

    def _on_client_job_event(self, ev: Event) -> None:
        if ev.event != "job.progress" or self.job_id is None:
            return
        mine = ev.data.get("job_id") == self.job_id or ev.data.get("name") == self.missing.name
        total, done = ev.data.get("total"), ev.data.get("done")
        if not mine or not isinstance(total, (int, float)) or not isinstance(done, (int, float)):
            return
        if total > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * min(1.0, done / total)))
        of = format_size(total) if total > 0 else "?"  # the server did not say the size
        self._set_status(f"{ev.data.get('stage', '')}: {format_size(done)} of {of}")

    def _on_job_finished(self, data: dict) -> None:
        self.job_id = None
        status = data.get("status")
        if status == "ok":
            self.installed = True
            self._set_status(f"{self.missing.name} is installed. Press "
                                      f"“{self.retry_btn.text()}” to continue.")
            self.retry_btn.setEnabled(True)
            self.retry_btn.setDefault(True)
            self.sig_installed.emit(self.missing.name)
        elif status == "cancelled":
            self._set_status("Cancelled; a partial download is kept and resumes next time.")
        else:
            err = data.get("error") if isinstance(data.get("error"), dict) else {}
            self._set_status(error_text(err.get("code"), str(err.get("message", ""))))
        self._set_busy(False)

    def done(self, result: int) -> None:
        with contextlib.suppress(RuntimeError, TypeError):
            self.client.sig_job_event.disconnect(self._on_client_job_event)
        super().done(result)
