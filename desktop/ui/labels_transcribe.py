"""QtTranscribePanel: transcribe the open project's clips (the ``transcribe`` job).

It sits on the Labels page beside the table, in the page's side column (which scrolls up
and down), so it is narrow: the form (``QtTranscribeForm``), then Transcribe / Cancel, the
progress bar and the message (stage, the clip being transcribed, seconds of audio done). The
choices come from ``transcribe.engines``, asked when the panel is first shown, after a
backend restart, after any ``assets`` job ends ok (a model was installed), and before
each start (the preflight: a model that is not installed opens ``QtAssetMissingDialog``,
whose Retry starts again; so does a job refused or failed with ``asset_missing``). The
job is followed through its ``JobHandle`` (the same handle the Jobs dock shows); Cancel
is ``job.cancel``, and what was saved stays saved. ``sig_labels_changed`` is emitted when
the job ends (any way but a refused start) and, at most every ``COALESCE_MS``, while
``labels.changed`` events for the open project arrive: the table reloads its rows then.
The choices are kept in the app settings (``labels.transcribe``).
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backend.protocol import Error, Event, Hello
from desktop.backend_client import BackendClient
from desktop.components.assets import MissingAsset, missing_from_job
from desktop.components.extract_settings import cuda_available
from desktop.components.job_handle import JobHandle
from desktop.components.request_book import InFlight
from desktop.components.settings import AppSettings
from desktop.components.transcribe_settings import (
    SETTINGS_KEY,
    EngineList,
    RunText,
    TranscribeSettings,
    finished_text,
    progress_text,
)
from desktop.ui.asset_missing_dialog import QtAssetMissingDialog
from desktop.ui.elided_label import QtElidedLabel
from desktop.ui.job_widgets import show_fraction
from desktop.ui.labels_transcribe_form import QtTranscribeForm
from desktop.ui.project_controller import ProjectController

COALESCE_MS = 300
INTRO = "Transcribe the clips that have no text yet."
ERROR_STYLE = "color: #b00020;"
START_TIP = ("Transcribe every clip that has no text yet (with Transcribe again, also those "
             "transcribed before; never the text you typed or imported).")


def same_path(a: Any, b: Any) -> bool:
    if not isinstance(a, str) or not isinstance(b, str) or not a or not b:
        return False
    norm = [os.path.normcase(os.path.normpath(p)) for p in (a, b)]
    return norm[0] == norm[1] or os.path.realpath(a) == os.path.realpath(b)


class QtTranscribePanel(QWidget):
    sig_labels_changed = Signal()

    def __init__(self, client: BackendClient, controller: ProjectController,
                 settings: AppSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client, self.controller, self.app_settings = client, controller, settings
        self.job: JobHandle | None = None  # the transcription this panel follows
        self.engines: EngineList | None = None
        self.checking = False  # the preflight transcribe.engines is on its way
        self.missing_dialog: QtAssetMissingDialog | None = None
        self._queries = InFlight()
        self._changed_timer = QTimer(self)
        self._changed_timer.setSingleShot(True)
        self._changed_timer.setInterval(COALESCE_MS)
        self._changed_timer.timeout.connect(self.sig_labels_changed)
        self._build()
        stored = settings.store.get(SETTINGS_KEY) if settings is not None else None
        self.form.set_values(TranscribeSettings.from_stored(stored))
        self.form.set_cuda(cuda_available(client.hello))
        self._shown_path: str | None = controller.state.path if controller.state else None
        controller.project_changed.connect(self._on_project_changed)
        client.sig_hello.connect(self._on_hello)
        client.sig_event.connect(self._on_event)
        client.jobs.subscribe(self._on_any_job)
        self._update_buttons()

    def _build(self) -> None:
        self.setObjectName("transcribe_panel")
        self.form = QtTranscribeForm(self.app_settings)
        self.transcribe_btn = QPushButton("Transcribe")
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setEnabled(False)
        self.transcribe_btn.clicked.connect(self.start)
        self.cancel_btn.clicked.connect(self.cancel)
        buttons = QHBoxLayout()
        buttons.addWidget(self.transcribe_btn)
        buttons.addWidget(self.cancel_btn)
        buttons.addStretch(1)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)  # the message below says it: never wider
        self.progress.setVisible(False)
        self.message = QtElidedLabel(INTRO, lines=4)
        self.message.setObjectName("transcribe_message")
        self.message.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.form)  # the page's side column scrolls (never one inside it)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addStretch(1)  # the buttons stay under the form on a tall page

    def _on_project_changed(self, state: Any) -> None:
        path = state.path if state is not None else None
        if path != self._shown_path and not self.busy:
            self._say(INTRO)  # the last run's words were about another project
        self._shown_path = path
        self._update_buttons()

    # engines ------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self.engines is None:
            self.load_engines()

    def load_engines(self) -> bool:
        """Ask ``transcribe.engines`` (once while an answer is on its way)."""
        return self._queries.ask(
            "engines", lambda ok, err: self.client.request("transcribe.engines", {}, ok, err),
            self._on_engines, lambda err: self._say(
                f"Could not list the transcription engines: {err.message}", error=True))

    def _on_engines(self, result: dict) -> None:
        self.engines = EngineList.from_result(result)
        self.form.set_engines(self.engines)
        self._update_buttons()

    def _on_hello(self, hello: Hello) -> None:
        self.form.set_cuda(cuda_available(hello))
        self.engines = None  # a new backend: its engines and models may differ
        if self.isVisible():
            self.load_engines()
        self._update_buttons()

    def _on_any_job(self, job: JobHandle, event: str, _data: dict) -> None:
        if job.kind == "assets" and event == "job.finished" and job.state == "ok":
            self.load_engines()  # a model may have been installed

    # start ----------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.checking or (self.job is not None and self.job.active)

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        self.message.setText(text)

    def start(self) -> str | None:
        """``transcribe.engines`` (preflight), then the ``transcribe`` job."""
        state = self.controller.state
        if state is None:
            self._say("Open a project first.")
            return None
        if self.busy:
            return None
        self.checking = True
        self._update_buttons()
        self._say("Checking the transcription models…")
        return self.client.request("transcribe.engines", {},
                                   lambda r: self._on_preflight(r, state.path),
                                   self._on_preflight_error)

    def _on_preflight(self, result: dict, project: str) -> None:
        self.checking = False
        self._on_engines(result)
        settings = self.form.values()
        problems = settings.validate(self.engines, cuda_available(self.client.hello))
        if problems:
            self._say("Cannot start: " + "; ".join(problems), error=True)
            return
        missing = settings.missing_asset(self.engines)
        if missing is not None:
            self.show_missing(missing)
            return
        self._remember(settings)
        self._say("Starting the transcription…")
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.job = self.client.start_job("transcribe",
                                         settings.to_job_args(project, self.engines))
        self.job.subscribe(self._on_job_changed)
        self._update_buttons()

    def _on_preflight_error(self, err: Error) -> None:
        self.checking = False
        self._update_buttons()
        self._say(f"Could not check the transcription models: {err.message}", error=True)

    def _remember(self, settings: TranscribeSettings) -> None:
        if self.app_settings is not None:
            self.app_settings.store.set(SETTINGS_KEY, settings.to_stored())

    def show_missing(self, missing: MissingAsset) -> QtAssetMissingDialog:
        """The asset-missing dialog; its Retry starts the transcription again."""
        if self.missing_dialog is not None:
            self.missing_dialog.deleteLater()
        dialog = QtAssetMissingDialog(self.client, missing, retry_text="Retry transcription",
                                      settings=self.app_settings, parent=self)
        dialog.accepted.connect(self.start)
        self.missing_dialog = dialog
        self._say(f"Transcription needs {missing.name}, which is not installed.", error=True)
        self._update_buttons()
        dialog.open()
        return dialog

    # job ------------------------------------------------------------------------------------
    def cancel(self) -> None:
        if self.job is not None and self.job.active:
            self.client.cancel_job(self.job)
            self._update_buttons()
            self._say("Cancelling…")

    def _on_job_changed(self, job: JobHandle, event: str, _data: dict) -> None:
        if job is not self.job:
            return
        if job.finished:
            self._on_finished(job)
        elif event in ("job.started", "job.progress"):
            self._show_progress(job)
            self._update_buttons()

    def _show_progress(self, job: JobHandle) -> None:
        show_fraction(self.progress, job.fraction)
        if not job.cancel_requested:
            self._say(progress_text(job))

    def _on_finished(self, job: JobHandle) -> None:
        self.progress.setVisible(False)
        self._update_buttons()
        if not job.refused:  # what it saved is in labels.json: the table reloads now
            self._changed_timer.stop()
            self.sig_labels_changed.emit()
        missing = missing_from_job(job)
        if missing is not None:
            self.show_missing(missing)
            return
        self._show_run_text(finished_text(job))

    def _show_run_text(self, text: RunText) -> None:
        self._say("\n".join([text.line, *text.details]), error=text.error)

    def _on_event(self, ev: Event) -> None:
        if ev.event != "labels.changed":
            return
        state = self.controller.state
        if state is not None and same_path(ev.data.get("project"), state.path) \
                and not self._changed_timer.isActive():
            self._changed_timer.start()

    def _update_buttons(self, *_: Any) -> None:
        busy = self.busy
        job = self.job
        has_project = self.controller.state is not None
        self.transcribe_btn.setEnabled(has_project and not busy)
        self.transcribe_btn.setToolTip(START_TIP if has_project else "Open a project first.")
        self.cancel_btn.setEnabled(job is not None and job.active and not job.cancel_requested)
        self.form.setEnabled(not busy)
