"""QtTrainOutput: the Train page's "Build index", "Export model…" and "Export package…".

A view of ``TrainOutput`` (desktop/components/train_output.py): it starts the
``index`` / ``export`` job, shows its progress, then the result with the written
file's path (selectable, with a Copy button) or the error in red.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.backend_client import BackendClient
from desktop.components.job_handle import JobHandle
from desktop.components.settings import AppSettings
from desktop.components.train_kind import VITS
from desktop.components.train_output import (
    INDEX,
    MODEL,
    PACKAGE,
    OutputContext,
    TrainOutput,
    file_filter,
    with_suffix,
)
from desktop.ui import file_dialogs
from desktop.ui.elided_label import QtElidedLabel

ERROR_STYLE = "color: #b00020;"
FOLDER_KEY = "export"
HINTS = {INDEX: "Build the faiss retrieval index over the project's features",
         MODEL: "Write the RVC voice model (.pth) of the run's newest checkpoint",
         PACKAGE: "Write a .zip with the model, the project's newest index and a model card"}
TTS_HINTS = {INDEX: "",
             MODEL: "Write the text-to-speech model (.pth: no discriminator, fp16, with its "
                    "config and symbols) of the run's newest checkpoint, for the Speak page",
             PACKAGE: "Write a .zip with the text-to-speech model, its config.json and a "
                      "model card"}
TITLES = {MODEL: "Export the voice model", PACKAGE: "Export a model package"}
TTS_TITLES = {MODEL: "Export the text-to-speech model", PACKAGE: "Export a model package"}


class QtTrainOutput(QGroupBox):
    def __init__(self, client: BackendClient, settings: AppSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__("Index and export", parent)
        self.client, self.app_settings = client, settings
        self.model = TrainOutput()
        self.index_btn = QPushButton("Build index")
        self.model_btn = QPushButton("Export model…")
        self.package_btn = QPushButton("Export package…")
        self.cancel_btn = QPushButton("Cancel")
        self.index_btn.clicked.connect(self.build_index)
        self.model_btn.clicked.connect(lambda: self.export(MODEL))
        self.package_btn.clicked.connect(lambda: self.export(PACKAGE))
        self.cancel_btn.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress_label = QtElidedLabel()
        self.result_label = QtElidedLabel(lines=3)
        self.result_label.setObjectName("train_output_result")
        self.path_edit = QLineEdit()
        self.path_edit.setReadOnly(True)
        self.copy_btn = QPushButton("Copy path")
        self.copy_btn.clicked.connect(self.copy_path)
        self._build()
        self._show()

    def _build(self) -> None:
        buttons = QGridLayout()  # two by two: the column stays narrow
        for n, b in enumerate((self.index_btn, self.cancel_btn, self.model_btn,
                               self.package_btn)):
            buttons.addWidget(b, n // 2, n % 2)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.copy_btn)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.result_label)
        layout.addLayout(path_row)

    # what the page tells us ----------------------------------------------------------------
    def set_context(self, context: OutputContext) -> None:
        self.model.context = context
        self._show()

    # actions ----------------------------------------------------------------------------------
    def build_index(self) -> JobHandle | None:
        if self.model.blocker(INDEX):
            return None
        return self._start(INDEX, "index", self.model.index_args())

    def export(self, action: str, out: str | None = None) -> JobHandle | None:
        """Export to ``out``; without it, ask with a save dialog (None when cancelled)."""
        if self.model.blocker(action):
            return None
        if out is None:
            out = self._ask_path(action)
            if not out:
                return None
        return self._start(action, "export", self.model.export_args(out, action))

    def _ask_path(self, action: str) -> str:
        """The save dialog: in the folder this project last exported to, else in the
        project's ``export/`` folder."""
        kind = self.model.context.model
        title = (TTS_TITLES if kind == VITS else TITLES)[action]
        default = Path(self.model.default_path(action))
        path = file_dialogs.save_file(self, self.app_settings, self.folder_key(), title,
                                      default.name, file_filter(action, kind),
                                      str(default.parent))
        return with_suffix(path, action) if path else ""

    def folder_key(self) -> str:
        """Exports remember their folder per project."""
        return f"{FOLDER_KEY} {self.model.context.project or ''}"

    def _start(self, action: str, kind: str, args: dict[str, Any]) -> JobHandle:
        job = self.client.start_job(kind, args)
        self.model.follow(action, job)
        job.subscribe(self._on_job_changed)
        self._show()
        return job

    def cancel(self) -> str | None:
        if not self.model.running or self.model.job is None:
            return None
        return self.client.cancel_job(self.model.job)

    def copy_path(self) -> None:
        from PySide6.QtGui import QGuiApplication

        if self.path_edit.text():
            QGuiApplication.clipboard().setText(self.path_edit.text())
            self.copy_btn.setText("Copied")

    # the job -----------------------------------------------------------------------------------
    def _on_job_changed(self, job: JobHandle, _event: str, _data: dict) -> None:
        if job is self.model.job:
            self._show()

    # view ----------------------------------------------------------------------------------------
    def _show(self) -> None:
        m = self.model
        for action, button in ((INDEX, self.index_btn), (MODEL, self.model_btn),
                               (PACKAGE, self.package_btn)):
            blocker = m.blocker(action)
            button.setEnabled(not blocker)
            hints = TTS_HINTS if m.context.model == VITS else HINTS
            button.setToolTip(blocker or hints[action])
        tts = m.context.model == VITS
        self.setTitle("Export" if tts else "Index and export")
        self.index_btn.setVisible(not tts)  # a text-to-speech model has no index
        self.cancel_btn.setVisible(m.busy)
        self.cancel_btn.setEnabled(m.running)
        self.progress_label.setText(m.progress_text())
        self.progress_label.setVisible(m.busy)
        self.progress.setVisible(m.busy)
        done, total = (int(m.job.done), int(m.job.total)) if m.job is not None else (0, 0)
        self.progress.setRange(0, total if total > 0 else 0)  # 0, 0: busy indicator
        if total > 0:
            self.progress.setValue(min(done, total))
        failed = m.status in ("failed", "refused")
        self.result_label.setText(m.result_text())
        self.result_label.setStyleSheet(ERROR_STYLE if failed else "")
        self.result_label.setVisible(bool(m.status))
        path = m.result_path()
        if path != self.path_edit.text():
            self.copy_btn.setText("Copy path")
        self.path_edit.setText(path)
        self.path_edit.setToolTip(path)
        for w in (self.path_edit, self.copy_btn):
            w.setVisible(bool(path))
