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

from desktop.backend_client import BackendClient
from desktop.components.assets import MissingAsset, error_text, format_size, job_error
from desktop.components.job_handle import JobHandle
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
        self.job: JobHandle | None = None  # the download or import this dialog follows
        self.installed = False
        self.used_file = ""  # the file given to use_file
        self.setWindowTitle("A model file is missing")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(MIN_WIDTH)
        self._build(retry_text, also_missing or [])

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
    def download(self) -> JobHandle | None:
        return self._start({"action": "download", "name": self.missing.name},
                           f"Downloading {self.missing.name}…")

    def import_path(self, path: str) -> JobHandle | None:
        return self._start({"action": "import", "path": path, "name": self.missing.name},
                           f"Importing {Path(path).name}…")

    def _on_import_clicked(self) -> None:
        path = self.pick_file()
        if path:
            self.import_path(path)

    def _on_cancel_clicked(self) -> None:
        if self.job is not None and self.job.active:
            self.client.cancel_job(self.job)
        self.reject()

    def _start(self, args: dict, text: str) -> JobHandle | None:
        if self.job is not None and self.job.active:
            return None
        self.job = self.client.start_job("assets", args)
        self.job.subscribe(self._on_job_changed)
        self._set_busy(True)
        self._set_status(text)
        return self.job

    def _set_busy(self, busy: bool) -> None:
        for b in (self.download_btn, self.import_btn, self.other_btn):
            b.setEnabled(not busy and not self.installed)
        self.progress.setVisible(busy)
        if busy:
            self.progress.setRange(0, 0)

    # job ------------------------------------------------------------------------------
    def _on_job_changed(self, job: JobHandle, event: str, _data: dict) -> None:
        if job is not self.job:
            return
        if job.finished:
            self._on_job_finished(job)
        elif event == "job.progress":
            if job.total > 0:
                self.progress.setRange(0, 1000)
                self.progress.setValue(int(1000 * (job.fraction or 0.0)))
            if job.total > 0 or job.done > 0:
                of = format_size(job.total) if job.total > 0 else "?"  # the server did not say
                self._set_status(f"{job.stage}: {format_size(job.done)} of {of}")

    def _on_job_finished(self, job: JobHandle) -> None:
        if job.state == "ok":
            self.installed = True
            self._set_status(f"{self.missing.name} is installed. Press "
                             f"“{self.retry_btn.text()}” to continue.")
            self.retry_btn.setEnabled(True)
            self.retry_btn.setDefault(True)
            self.sig_installed.emit(self.missing.name)
        else:
            self._set_status(job_error(job) or error_text(job.error_code, ""))
        self._set_busy(False)

    def done(self, result: int) -> None:
        if self.job is not None:
            self.job.unsubscribe(self._on_job_changed)
        super().done(result)
