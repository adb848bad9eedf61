"""QtSpeakPage: type or paste text and hear it (the ``speak`` job), optionally in the voice
of a voice-conversion model.

Left: the text box and, below it, how the text front-end reads it (``QtReadingPreview``,
``text.preview`` in the chosen model's language). Right: ``QtSpeakForm`` (model, speaker,
speed, variation, "In the voice of" and its key). Below, always in view: Speak (runs the
job through the one ``JobHandle`` and plays the result with ``audio.play``), Play (the last
result again), Stop (playback, or the job while it runs), Save as… (a copy of the wav),
progress and the message. Ctrl+Enter speaks.

The model lists are asked when the page is first shown (``tts.models`` and ``models.list``
with the open project) and again when the project changes or a model is exported. A
missing content encoder or pitch model for the voice pass opens the asset-missing dialog.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from backend.protocol import Event
from desktop.components.assets import missing_from_job
from desktop.components.convert_session import save_copy
from desktop.components.job_handle import JobHandle
from desktop.components.project_state import ProjectState
from desktop.components.settings import AppSettings
from desktop.components.speak_session import SpeakSession, failed_text, progress_text
from desktop.components.speak_settings import (
    NO_MODEL,
    SETTINGS_KEY,
    SpeakSettings,
    blocker,
    job_args,
)
from desktop.ui import file_dialogs
from desktop.ui.asset_missing_dialog import QtAssetMissingDialog
from desktop.ui.elided_label import QtElidedLabel
from desktop.ui.job_widgets import show_fraction
from desktop.ui.labels_bars import ERROR_STYLE, QtReadingPreview
from desktop.ui.project_controller import ProjectController
from desktop.ui.scrolling import vertical_scroll
from desktop.ui.speak_form import QtSpeakForm

INTRO = "Type or paste some text, choose a model, then Speak (Ctrl+Enter)."
SPEAK_KEYS = ("Ctrl+Return", "Ctrl+Enter")
SPEAK_TIP = "Speak the text with the chosen model and play it (Ctrl+Enter)."
PLAY_TIP = "Play what was spoken last again."


class QtSpeakPage(QWidget):
    def __init__(self, client: Any, controller: ProjectController,
                 settings: AppSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client, self.controller, self.app_settings = client, controller, settings
        store = settings.store if settings is not None else None
        self.session = SpeakSession()
        self.job: JobHandle | None = None
        self.missing_dialog: QtAssetMissingDialog | None = None
        self._build(SpeakSettings.from_stored(store.get(SETTINGS_KEY) if store else None))
        controller.project_changed.connect(self._on_controller_project_changed)
        client.jobs.subscribe(self._on_jobs_changed)
        client.sig_event.connect(self._on_client_event)
        state = controller.state
        self.form.set_project(state.path if state is not None else None, now=False)
        self._update_buttons()

    # construction ---------------------------------------------------------------------------
    def _build(self, settings: SpeakSettings) -> None:
        self.text = QPlainTextEdit()
        self.text.setObjectName("speak_text")
        self.text.setPlaceholderText("The text to speak: type or paste it here. Long text is "
                                     "split into sentences.")
        self.text.setMinimumHeight(60)
        self.text.textChanged.connect(self._on_text_changed)
        self.preview = QtReadingPreview(self.client)
        for label, name in ((self.preview.normalized, "speak_reads_as"),
                            (self.preview.phonemes, "speak_phonemes"),
                            (self.preview.unsupported, "speak_unsupported")):
            label.setObjectName(name)
        self.text_splitter = QSplitter(Qt.Orientation.Vertical)
        self.text_splitter.setObjectName("speak_text_splitter")
        self.text_splitter.setChildrenCollapsible(False)
        self.text_splitter.addWidget(self.text)
        self.text_splitter.addWidget(vertical_scroll(self.preview, frame=False))
        self.text_splitter.setStretchFactor(0, 3)
        self.text_splitter.setStretchFactor(1, 2)
        self.form = QtSpeakForm(self.client, settings, self.app_settings)
        self.form.settings_changed.connect(self._on_form_settings_changed)
        self.form.models_changed.connect(self._on_form_models_changed)
        self.form.sig_message.connect(self._on_form_message)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("speak_splitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.text_splitter)
        self.splitter.addWidget(vertical_scroll(self.form, frame=False))
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([600, 400])  # a saved state (MainWindow) replaces this
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self._build_run())  # below the splitter: Speak is always in view
        self.shortcuts = []
        for key in SPEAK_KEYS:  # Return and the keypad's Enter
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(lambda: self.start())
            self.shortcuts.append(shortcut)

    def _build_run(self) -> QWidget:
        box = QWidget()
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for key, text, tip, slot in (
                ("speak", "Speak", SPEAK_TIP, lambda: self.start()),
                ("play", "Play", PLAY_TIP, lambda: self.play()),
                ("stop", "Stop", "Stop playing (or speaking, while it runs).", self.stop),
                ("save", "Save as…", "Save a copy of what was spoken last as a WAV file.",
                 lambda: self.save_as())):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            self.buttons[key] = button
            row.addWidget(button)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setVisible(False)
        row.addWidget(self.progress, 3)
        row.addStretch(1)  # the buttons stay on the left while the bar is hidden
        self.message = QtElidedLabel(INTRO, lines=3)
        self.message.setObjectName("speak_message")
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.message)
        return box

    # lists ----------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.form.refresh(missing_only=True)

    def _on_form_models_changed(self) -> None:
        if self.form.models_loaded and not self.form.models and not self.busy:
            self._say(NO_MODEL)
        self._on_model_changed()

    def _on_form_message(self, text: str, error: bool) -> None:
        self._say(text, error)

    def _on_controller_project_changed(self, state: ProjectState | None) -> None:
        """The project's exports are listed: ask again (now if shown, else when shown)."""
        self.form.set_project(state.path if state is not None else None,
                              now=self.isVisible())

    def _on_jobs_changed(self, job: JobHandle, event: str, _data: dict) -> None:
        """A model exported (the Train page) is listed at once."""
        if event == "job.finished" and job.kind == "export" and job.state == "ok":
            self.form.set_project(self.form.project, now=self.isVisible(), again=True)

    # speaking -----------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.job is not None and self.job.active

    def _blocker(self) -> str:
        return blocker(self.form.model(), self.text.toPlainText(), self.form.settings,
                       self.form.models_loaded)

    def start(self) -> JobHandle | None:
        """Speak the text with the form's settings, then play it."""
        if self.busy:
            return None
        why = self._blocker()
        if why:
            self._say(why, error=True)
            return None
        model = self.form.model()
        assert model is not None
        self.stop_playback()
        args = job_args(model, self.text.toPlainText(), self.form.settings)
        self.job = job = self.client.start_job("speak", args)
        job.subscribe(self._on_job_changed)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self._say(f"Speaking with {model.name}…")
        self._update_buttons()
        return job

    def _on_job_changed(self, job: JobHandle, event: str, _data: dict) -> None:
        if job is not self.job:
            return
        if job.finished:
            self._on_finished(job)
        elif event in ("job.started", "job.progress"):
            show_fraction(self.progress, job.fraction)
            voice = job.args.get("voice")
            text = progress_text(job.stage, job.done, job.total, self.form.voice_name()
                                 or (Path(voice).stem if voice else None))
            self.progress.setFormat(text.replace("%", "%%"))
            if not job.cancel_requested:
                self._say(text)
            self._update_buttons()

    def _on_finished(self, job: JobHandle) -> None:
        self.progress.setVisible(False)
        missing = missing_from_job(job)
        if job.state == "ok":
            result = self.session.spoken(job.args, job.result)
            if result is None:
                self._say("Speaking finished but the backend named no file.", error=True)
            else:
                self._say(result.summary() + " Playing it.")
                self.play()
        elif missing is not None:
            self._show_missing(missing)
        elif job.state == "cancelled":
            self._say("Speaking cancelled.")
        else:
            what = "Could not start speaking" if job.refused else "Speaking failed"
            self._say(failed_text(job.error_code, job.error_message, what), error=True)
        self._update_buttons()

    def _show_missing(self, missing: Any) -> QtAssetMissingDialog:
        if self.missing_dialog is not None:
            self.missing_dialog.deleteLater()
        dialog = QtAssetMissingDialog(self.client, missing, retry_text="Retry",
                                      settings=self.app_settings, parent=self)
        dialog.accepted.connect(lambda: self.start())
        self.missing_dialog = dialog
        self._say(f"Speaking in another voice needs {missing.name}, which is not installed.",
                  error=True)
        dialog.open()
        return dialog

    # playback -----------------------------------------------------------------------------------
    def play(self) -> str | None:
        args = self.session.play_args()
        if args is None:
            return None
        name = Path(args["path"]).name

        def started(answer: dict[str, Any]) -> None:
            self.session.started(answer)
            self._update_buttons()

        def failed(err: Any) -> None:
            self.session.stopped()
            self._say(f"Could not play {name}: {err.message}", error=True)
            self._update_buttons()

        self._update_buttons()
        return self.client.request("audio.play", args, started, failed)

    def stop_playback(self) -> str | None:
        if not (self.session.playing or self.session.waiting):
            return None
        self.session.stopped()
        self._update_buttons()
        return self.client.request("audio.stop", {})

    def stop(self) -> None:
        """Stop: the job while it runs, and playback."""
        if self.busy and self.job is not None and not self.job.cancel_requested:
            self.client.cancel_job(self.job)
            self._say("Cancelling…")
        if self.stop_playback() is not None and self.session.result is not None:
            self._say(self.session.result.summary())
        self._update_buttons()

    def _on_client_event(self, ev: Event) -> None:
        if ev.event not in ("audio.position", "audio.finished"):
            return
        finished = ev.event == "audio.finished"
        if not self.session.on_position(ev.data, finished):
            return
        result = self.session.result
        if self.session.playing:
            self._say(self.session.position_text())
        elif finished and result is not None:
            self._say(result.summary())
            self._update_buttons()

    # save ---------------------------------------------------------------------------------------
    def pick_save_path(self, name: str) -> str:
        """Where to save a copy ("" if cancelled). Tests replace this."""
        return file_dialogs.save_file(self, self.app_settings, "speak_save",
                                      "Save what was spoken", name, "WAV audio (*.wav)")

    def save_as(self, path: str | None = None) -> str | None:
        result = self.session.result
        if result is None:
            return None
        if not Path(result.out).is_file():
            self._say(f"The spoken file {result.out} is no longer there (the app's cache "
                      "keeps the newest speeches only): Speak again, then save.", error=True)
            return None
        path = path or self.pick_save_path(Path(result.out).name)
        if not path:
            return None
        try:
            save_copy(result.out, path)
        except OSError as exc:
            self._say(f"Could not save {path}: {exc.strerror or exc}", error=True)
            return None
        self._say(f"Saved a copy as {path}")
        return path

    # view ---------------------------------------------------------------------------------------
    def _on_text_changed(self) -> None:
        self._show_reading()
        self._update_buttons()

    def _on_model_changed(self) -> None:
        self._show_reading()
        self._update_buttons()

    def _on_form_settings_changed(self, settings: SpeakSettings) -> None:
        if self.app_settings is not None:
            self.app_settings.store.set(SETTINGS_KEY, settings.to_stored())
        self._on_model_changed()

    def _show_reading(self) -> None:
        model = self.form.model()
        self.preview.show_row({"text": self.text.toPlainText(),
                               "language": model.language if model and model.language
                               else None})

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        self.message.setText(text)

    def _update_buttons(self) -> None:
        busy, why = self.busy, self._blocker()
        has_result = self.session.result is not None
        playing = self.session.playing or self.session.waiting
        self.buttons["speak"].setEnabled(not busy and not why)
        self.buttons["speak"].setToolTip(why or SPEAK_TIP)
        self.buttons["play"].setEnabled(has_result and not busy)
        model = self.form.model()
        now = job_args(model, self.text.toPlainText(), self.form.settings) if model else None
        self.buttons["play"].setToolTip(PLAY_TIP if not has_result or self.session.is_current(
            now) else PLAY_TIP + " The text or a setting changed since: Speak to hear it.")
        self.buttons["stop"].setEnabled(playing or (busy and self.job is not None
                                                    and not self.job.cancel_requested))
        self.buttons["save"].setEnabled(has_result)
        self.form.setEnabled(not busy)
