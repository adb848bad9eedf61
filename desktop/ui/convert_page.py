"""QtConvertPage: convert recordings with a voice model (the ``convert`` job).

Left: the models library (``QtModelsLibrary``), the recordings to convert (dropped on the
page, or Add files / Add folder) and the settings (``QtConvertForm``); below, always in view:
the output folder, Convert / Cancel, progress and the message. Right: the per-file results
with the waveforms of the original and the result, A/B playback and Save as
(``QtConvertResults``).

One job at a time: a batch (``convert {model, index, inputs, out, …settings}``) or a
preview (``convert {model, index, preview: true, …settings}``: the built-in phrase, played
as soon as it is converted). Each ``convert.file`` event adds its row. A model file that
is no voice model or is unsafe gets the backend's message and what to do; a missing
content encoder or pitch model opens the asset-missing dialog, whose Retry starts again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.components.assets import missing_from_job
from desktop.components.convert_session import (
    RESULT,
    ConvertSession,
    progress_text,
    summary_text,
)
from desktop.components.convert_settings import ConvertSettings
from desktop.components.extract_settings import cuda_available
from desktop.components.job_handle import JobHandle
from desktop.components.models_library import Model, error_text
from desktop.components.project_state import ProjectState
from desktop.components.settings import AppSettings
from desktop.ui import file_dialogs
from desktop.ui.asset_missing_dialog import QtAssetMissingDialog
from desktop.ui.convert_form import QtConvertForm
from desktop.ui.convert_inputs import QtConvertInputs
from desktop.ui.convert_results import DEFAULT_CACHE, ERROR_STYLE, QtConvertResults
from desktop.ui.elided_label import QtElidedLabel
from desktop.ui.job_widgets import accept_local_drag, dropped_paths, show_fraction
from desktop.ui.models_library import QtModelsLibrary
from desktop.ui.project_controller import ProjectController
from desktop.ui.scrolling import vertical_scroll

INTRO = "Drop recordings (files or folders) here, pick a voice model, then Convert."
SETTINGS_KEY = "convert.settings"
OUT_KEY = "convert.out"


class QtConvertPage(QWidget):
    def __init__(self, client: Any, controller: ProjectController,
                 settings: AppSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client, self.controller, self.app_settings = client, controller, settings
        self.session = ConvertSession()
        self.job: JobHandle | None = None  # the batch or the preview this page follows
        self.preview = False  # self.job is a preview
        self.missing_dialog: QtAssetMissingDialog | None = None
        self._build()
        self.setAcceptDrops(True)
        self._restore()
        controller.project_changed.connect(self.set_project)
        client.jobs.subscribe(self._on_any_job)
        client.sig_hello.connect(lambda hello: self.form.set_cuda(cuda_available(hello)))
        self.form.set_cuda(cuda_available(client.hello))
        self.set_project(controller.state)

    # construction ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.library = QtModelsLibrary(self.client, self.app_settings)
        self.library.sig_selected.connect(self._on_model_selected)
        self.library.sig_preview.connect(self.start_preview)
        self.form = QtConvertForm()
        self.form.settings_changed.connect(self._update_buttons)
        column = QWidget()
        left = QVBoxLayout(column)
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(self.library)
        self.inputs = QtConvertInputs(self.session, self.app_settings)
        self.inputs.sig_changed.connect(self._update_buttons)
        left.addWidget(self.inputs)
        left.addWidget(self.form)
        left.addStretch(1)
        self.results = QtConvertResults(self.client, self.session, self.app_settings)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("convert_splitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(vertical_scroll(column, frame=False))
        self.splitter.addWidget(self.results)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([400, 600])  # a saved state (MainWindow) replaces this
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self._build_run())  # below the splitter: Convert is always in view

    def _build_run(self) -> QWidget:
        box = QWidget()
        self.out_edit = QLineEdit()
        self.out_edit.setPlaceholderText("the folder for the converted files")
        self.out_edit.textChanged.connect(self._on_out_edited)
        self.out_btn = QPushButton("Choose…")
        self.out_btn.clicked.connect(self._on_choose_out)
        self.convert_btn = QPushButton("Convert")
        self.cancel_btn = QPushButton("Cancel")
        self.convert_btn.clicked.connect(lambda: self.start())
        self.cancel_btn.clicked.connect(self.cancel)
        row = QHBoxLayout()
        row.addWidget(QLabel("Output folder:"))
        row.addWidget(self.out_edit, 1)
        for b in (self.out_btn, self.convert_btn, self.cancel_btn):
            row.addWidget(b)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setVisible(False)
        self.message = QtElidedLabel(INTRO, lines=3)
        self.message.setObjectName("convert_message")
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        return box

    def _restore(self) -> None:
        store = self.app_settings.store if self.app_settings is not None else None
        self.form.set_values(ConvertSettings.from_stored(
            store.get(SETTINGS_KEY) if store is not None else None))
        out = store.get(OUT_KEY) if store is not None else None
        if isinstance(out, str) and out:
            self.out_edit.setText(out)

    # project ---------------------------------------------------------------------------------
    def set_project(self, state: ProjectState | None) -> None:
        """The library lists the project's exports; waveforms are cached in the project."""
        self.library.set_project(state.path if state else None)
        self.results.cache_dir = state.cache_dir if state is not None else str(DEFAULT_CACHE)
        if state is not None and not self.out_edit.text():
            self.out_edit.setText(str(Path(state.path) / "converted"))
        self._update_buttons()

    def _on_any_job(self, job: JobHandle, event: str, _data: dict) -> None:
        """A model exported (the Train page) is listed at once."""
        if event == "job.finished" and job.kind == "export" and job.state == "ok" \
                and self.library.library.loaded:
            self.library.refresh()

    # inputs -----------------------------------------------------------------------------------
    def add_paths(self, paths: list[str]) -> list[str]:
        problems = self.inputs.add_paths(paths)
        self._say("; ".join(problems) if problems else self._blocker() or "Ready to convert.",
                  error=bool(problems))
        return problems

    def pick_out_folder(self) -> str:
        return file_dialogs.open_folder(self, self.app_settings, "convert_out",
                                        "Folder for the converted files",
                                        start=self.out_edit.text() or None)

    def _on_choose_out(self) -> None:
        folder = self.pick_out_folder()
        if folder:
            self.out_edit.setText(folder)

    def _on_out_edited(self, text: str) -> None:
        self.session.out_folder = text.strip()
        self._update_buttons()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        accept_local_drag(event)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt override)
        paths = dropped_paths(event)
        if paths:
            self.add_paths(paths)

    # jobs -------------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.job is not None and self.job.active

    def model(self) -> Model | None:
        return self.library.selected()

    def _blocker(self) -> str:
        return self.session.blocker(self.model(), self.form.values())

    def start(self) -> JobHandle | None:
        """Convert the queued recordings (the form's settings, the selected model)."""
        if self.busy:
            return None
        blocker = self._blocker()
        if blocker:
            self._say(blocker, error=True)
            return None
        model, settings = self.model(), self.form.values()
        assert model is not None
        self._remember(settings)
        self.session.started()
        self.results.refresh()
        return self._start_job(self.session.job_args(model, settings, self.form.device_value()),
                               preview=False,
                               what=f"Converting with {model.name}…")

    def start_preview(self) -> JobHandle | None:
        """Convert the built-in phrase with the selected model, then play it."""
        model, settings = self.model(), self.form.values()
        if self.busy or model is None:
            return None
        problems = settings.validate()
        if problems:
            self._say("Check the settings: " + "; ".join(problems), error=True)
            return None
        args = ConvertSession.preview_args(model, settings, self.form.device_value())
        return self._start_job(args, preview=True,
                               what=f"Converting the preview phrase with {model.name}…")

    def _start_job(self, args: dict, *, preview: bool, what: str) -> JobHandle:
        self.preview = preview
        self.job = job = self.client.start_job("convert", args)
        job.subscribe(self._on_job_changed)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self._say(what)
        self._update_buttons()
        return job

    def _remember(self, settings: ConvertSettings) -> None:
        if self.app_settings is not None:
            self.app_settings.store.set(SETTINGS_KEY, settings.to_stored())
            self.app_settings.store.set(OUT_KEY, self.session.out_folder)

    def cancel(self) -> None:
        if self.busy and self.job is not None:
            self.client.cancel_job(self.job)
            self._say("Cancelling…")
            self._update_buttons()

    def _on_job_changed(self, job: JobHandle, event: str, data: dict) -> None:
        if job is not self.job:
            return
        if event == "convert.file":
            self.session.on_file(data, self.preview)
            self.results.refresh()
        if job.finished:
            self._on_finished(job)
        elif event in ("job.started", "job.progress"):
            self._show_progress(job)
            self._update_buttons()

    def _show_progress(self, job: JobHandle) -> None:
        show_fraction(self.progress, job.fraction)
        text = progress_text(f"{job.stage} {job.detail}".strip(), job.done, job.total,
                             job.eta_text())
        self.progress.setFormat(text.replace("%", "%%") + " (%p%)")
        if not job.cancel_requested:
            self._say(text)

    def _on_finished(self, job: JobHandle) -> None:
        self.progress.setVisible(False)
        preview = self.preview
        if job.state == "ok":
            self.session.on_finished(job.result, preview)
            self.results.refresh()
        self._update_buttons()
        missing = missing_from_job(job)
        if missing is not None:
            self._show_missing(missing)
        elif job.state == "ok" and preview:
            self._say("Preview converted; playing it.")
            self.results.play(RESULT, 0.0)
        elif job.state == "ok":
            self._say(summary_text(job.result), error=bool(job.result.get("failed")))
        elif job.state == "cancelled":
            self._say("Conversion cancelled; the files converted so far are listed.")
        else:
            what = "Could not start the conversion" if job.refused else "Conversion failed"
            self._say(error_text(job.error_code, job.error_message, what), error=True)

    def _show_missing(self, missing) -> QtAssetMissingDialog:
        if self.missing_dialog is not None:
            self.missing_dialog.deleteLater()
        retry = self.start_preview if self.preview else self.start
        dialog = QtAssetMissingDialog(self.client, missing, retry_text="Retry",
                                      settings=self.app_settings, parent=self)
        dialog.accepted.connect(retry)
        self.missing_dialog = dialog
        self._say(f"Conversion needs {missing.name}, which is not installed.", error=True)
        dialog.open()
        return dialog

    # view --------------------------------------------------------------------------------------
    def _on_model_selected(self, model: Model | None) -> None:
        self.form.set_model(model)
        self._update_buttons()

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        self.message.setText(text)

    def _update_buttons(self) -> None:
        busy = self.busy
        blocker = self._blocker()
        self.convert_btn.setEnabled(not busy and not blocker)
        self.convert_btn.setToolTip(blocker or "Convert every recording in the list.")
        job = self.job
        self.cancel_btn.setEnabled(busy and job is not None and not job.cancel_requested)
        self.library.set_preview_busy(busy)
        for w in (self.form, self.inputs, self.out_edit, self.out_btn):
            w.setEnabled(not busy)
        self.form.set_model(self.model())
