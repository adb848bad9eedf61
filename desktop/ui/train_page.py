"""QtTrainPage: train a voice model, watch the curves, listen to samples.

The model kind (voice conversion or text-to-speech) starts at the project's
``model_kind``; each kind has its own suggestion and runs (``TrainChoices``).
On project open (and when the page is shown) it asks the backend ``train.suggest``
for the kind (readiness, problems, suggested settings, installed pretrained bases; for
text-to-speech the labelled audio and how much it needs) and
``train.runs`` (past runs); the kind's latest run's ``metrics.jsonl`` is read into the
``MetricsHistory`` so the curves are there without training. The form shows the
suggestion, or, when the latest run has a checkpoint, that run's own settings (its
``run.json``), so Start resumes it as it was trained. ``QtTrainBases`` offers the
recommended pretrained bases when they are missing. While a ``train``
job runs, the events of its ``JobHandle`` (``job.metrics``, ``job.progress``,
``train.sample``, ``train.checkpoint``, ``job.paused``, ``job.finished``, its ``log``
lines) drive a ``TrainSession``;
the graphs (``QtLossPlot``) repaint on their own timer. ``QtTrainOutput`` builds the
index and exports the shown run's newest checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from backend.protocol import Error, Hello
from desktop.backend_client import BackendClient
from desktop.components.job_handle import JobHandle
from desktop.components.metrics import MetricsHistory
from desktop.components.project_state import ProjectState
from desktop.components.request_book import InFlight
from desktop.components.settings import AppSettings
from desktop.components.train_choices import TrainChoices
from desktop.components.train_kind import SAMPLES_TITLES, kind_of
from desktop.components.train_output import OutputContext
from desktop.components.train_runs import TrainRun, TrainSession, runs_from_result
from desktop.components.train_settings import TrainSuggestion, start_blocker
from desktop.ui.elided_label import QtElidedLabel
from desktop.ui.loss_plot import QtLossPlot
from desktop.ui.project_controller import ProjectController
from desktop.ui.scrolling import vertical_scroll
from desktop.ui.train_bases import QtTrainBases
from desktop.ui.train_controls import QtTrainControls
from desktop.ui.train_files import QtTrainFiles
from desktop.ui.train_form import QtTrainSettingsForm
from desktop.ui.train_output import QtTrainOutput


class QtTrainPage(QWidget):
    def __init__(self, client: BackendClient, controller: ProjectController,
                 settings: AppSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client, self.controller = client, controller
        self.history = MetricsHistory()
        self.session = TrainSession(self.history)
        self.choices = TrainChoices()
        self.shown_run: TrainRun | None = None
        self.project: str | None = None
        self.job: JobHandle | None = None  # the training job this page follows
        self._suggest_error = ""
        self._history_live = False  # the curves came from events, not from the file
        self._asked = InFlight()  # train.suggest / train.runs on their way
        self._build(settings)
        client.sig_hello.connect(self._on_client_hello)
        controller.project_changed.connect(self.set_project)
        self._on_client_hello(client.hello)
        self.set_project(controller.state)

    # layout ---------------------------------------------------------------------------
    def _build(self, settings: AppSettings | None) -> None:
        self.project_label = QtElidedLabel("No project open", elide=Qt.TextElideMode.ElideMiddle)
        self.suggestion_label = QtElidedLabel(lines=4)
        self.problems_label = QtElidedLabel(lines=6)
        self.problems_label.setObjectName("train_problems")
        self.problems_label.setStyleSheet("color: #b00020;")
        self.form = QtTrainSettingsForm(settings)
        self.form.settings_changed.connect(self._update_controls)
        self.form.kind_changed.connect(self._on_form_kind_changed)
        self.bases = QtTrainBases(self.client, self.form, settings)
        self.bases.sig_installed.connect(self._on_bases_installed)
        self.controls = QtTrainControls()
        c = self.controls
        self.start_btn, self.pause_btn, self.stop_btn = c.start_btn, c.pause_btn, c.stop_btn
        self.status_label, self.warnings_label = c.status_label, c.warnings_label
        self.progress = c.progress
        self.start_btn.clicked.connect(self.start_training)
        self.pause_btn.clicked.connect(self.toggle_pause)
        self.stop_btn.clicked.connect(self.stop_training)
        self.output = QtTrainOutput(self.client, settings)
        self.files = QtTrainFiles(self.client)
        self.samples_table, self.checkpoints_table = (self.files.samples_table,
                                                      self.files.checkpoints_table)
        self.audio_label, self.audio_stop_btn = self.files.audio_label, self.files.audio_stop_btn
        settings = QWidget()
        col = QVBoxLayout(settings)
        for w in (self.project_label, self.suggestion_label, self.problems_label, self.bases,
                  self.form, self.output):
            col.addWidget(w)
        col.addWidget(self.files, 1)
        self.settings_scroll = vertical_scroll(settings)
        left = QWidget()  # the settings scroll; Start, Pause, Stop and the status stay in view
        left_col = QVBoxLayout(left)
        left_col.setContentsMargins(0, 0, 0, 0)
        left_col.addWidget(self.settings_scroll, 1)
        left_col.addWidget(self.controls)
        self.plot = QtLossPlot(self.history)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("train_splitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.plot)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([460, 900])
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)

    # project and history -------------------------------------------------------------
    @property
    def running(self) -> bool:
        """The training job is requested, running or paused."""
        return self.job is not None and self.job.active

    @property
    def suggestion(self) -> TrainSuggestion | None:
        """``train.suggest``'s answer for the kind the form shows."""
        return self.choices.suggestion

    @property
    def runs(self) -> list[TrainRun]:
        return self.choices.runs

    @property
    def kind(self) -> str:
        return self.form.kind

    def set_project(self, state: ProjectState | None) -> None:
        path = state.path if state else None
        self.project_label.setText(f"{state.name} — {state.path}" if state
                                   else "No project open")
        if path != self.project and not self.running:
            self.project = path
            self.choices.reset(kind_of(state.model_kind if state else ""))
            self.shown_run = None
            self._suggest_error = ""
            self.history.clear()
            self.session.reset()
            self.session.set_run(None)
            self._fill_tables()
            self.form.set_values(self.choices.form_values())
            self.refresh()
        self._update_controls()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self.project and not self.running:
            self.refresh()

    def refresh(self) -> None:
        """Ask ``train.suggest`` (for the form's kind) and ``train.runs``."""
        if not self.project:
            return
        self._ask_suggest()
        self._ask("train.runs", {"project": self.project}, self._on_runs_result,
                  self._on_runs_error)

    def _ask_suggest(self) -> None:
        if self.project:
            kind = self.kind
            self._ask("train.suggest", {"project": self.project, "model": kind},
                      lambda path, result: self._on_suggest_result(path, kind, result),
                      self._on_suggest_error)

    def _ask(self, cmd: str, args: dict[str, Any], done: Callable[[str, dict[str, Any]], None],
             failed: Callable[[str, Error], None]) -> None:
        path = str(args["project"])
        key = " ".join([cmd, str(args.get("model", ""))])  # one question per kind in flight
        self._asked.ask(key, lambda ok, err: self.client.request(cmd, args, ok, err),
                        lambda result: done(path, result), lambda err: failed(path, err))

    def _on_suggest_result(self, path: str, kind: str, result: dict[str, Any]) -> None:
        if path != self.project:
            return
        first = self.choices.take_suggestion(kind, result)
        self._suggest_error = ""
        if first and kind == self.kind and not self.running:
            self._prefill()
        self._show_suggestion()

    def _show_suggestion(self) -> None:
        sug = self.suggestion
        self.bases.set_suggestion(sug, self._resuming())
        lines = [t for t in (sug.summary(), sug.text) if t] if sug else []
        self.suggestion_label.setText("\n".join(lines) or self.choices.error)
        few = sug is not None and sug.enough_data is False  # too little labelled audio
        self.suggestion_label.setStyleSheet("color: #8a5a00;" if few else "")
        if sug is not None:
            self.form.set_languages(sug.languages, sug.language)
        self._update_controls()

    def _on_suggest_error(self, path: str, err: Error) -> None:
        if path == self.project:
            self._suggest_error = f"Could not ask the backend about training: {err.message}"
            self._update_controls()

    def _on_form_kind_changed(self, kind: str) -> None:
        """The user picked the other kind: its runs, curves and suggestion (asked again)."""
        if self.running:
            return
        self.choices.switch(kind, self.form.values())
        self._show_kind_run()
        self.form.set_values(self.choices.form_values())
        self._show_suggestion()
        self._ask_suggest()

    def _on_runs_error(self, path: str, err: Error) -> None:
        if path == self.project:
            self._say(f"Could not list the training runs: {err.message}")

    def _on_runs_result(self, path: str, result: dict[str, Any]) -> None:
        if path != self.project or self.running:
            return
        self.choices.runs = runs_from_result(result)
        if self._show_kind_run():
            self._prefill()

    def _show_kind_run(self) -> bool:
        """Show the latest run of the form's kind (curves, samples, checkpoints); True when
        it is another run than the one shown."""
        run = self.choices.shown_run()
        same = run is not None and self.shown_run is not None and run.name == self.shown_run.name
        self.shown_run = run
        if not same:
            self.load_history(run)
        elif not self._history_live and run is not None and run.metrics:
            self.history.read_file(Path(run.metrics))  # only the lines added since
        self.session.set_run(run)
        self._fill_tables()
        return not same

    def _resuming(self) -> bool:
        """The shown run has a checkpoint: Start resumes it (and uses no bases)."""
        return self.shown_run is not None and self.shown_run.resumable

    def _prefill(self) -> None:
        """The form: the suggestion, under the shown run's own settings when it resumes."""
        if not self.running:
            self.form.set_values(self.choices.form_values(keep_left=False))
            self.bases.set_suggestion(self.suggestion, self._resuming())

    def _on_bases_installed(self) -> None:
        self._ask_suggest()

    def load_history(self, run: TrainRun | None) -> int:
        """Replace the curves with a run's metrics.jsonl (plain file read)."""
        self.history.clear()
        self._history_live = False
        if run is None or not run.metrics:
            return 0
        count = self.history.read_file(Path(run.metrics))
        if count and not self.session.status:  # "Training finished at …" stays
            self._say(run.history_text(count, self.history.last_step))
        return count

    # backend events -------------------------------------------------------------------
    def _on_client_hello(self, hello: Hello | None) -> None:
        devices = hello.devices if hello is not None else []
        self.form.set_cuda_available(any(d.get("kind") == "cuda" for d in devices))
        self._update_controls()

    def _on_job_changed(self, job: JobHandle, event: str, data: dict[str, Any]) -> None:
        """Every event of the training job, from the first (``job.started``) on."""
        if job is not self.job:
            return
        if event == "refused":
            self._on_job_start_error(job)
        elif event == "job.started":
            self.session.reset(job.job_id)
            self._update_controls()
        elif event == "log":
            self.controls.add_log(str(data.get("level", "")), str(data.get("message", "")))
        else:
            self._apply(event, data)

    def _apply(self, event: str, data: dict[str, Any]) -> None:
        what = self.session.apply(event, data)
        if what in ("samples", "checkpoints"):
            self._fill_tables()
        if what == "finished":
            self._on_training_finished()
        elif what:
            self._show_status()

    # training ----------------------------------------------------------------------------
    def start_training(self) -> JobHandle | None:
        settings = self.form.values()
        problems = settings.validate(self.form.cuda_available)
        blocker = start_blocker(self.suggestion, problems, bool(self.project), self.running)
        if blocker:
            self._say(blocker)
            self._update_controls()
            return None
        if not self.bases.confirm_start():
            self._say("Not started: the recommended pretrained bases are missing.")
            return None
        assert self.project is not None
        if self.shown_run is None or self.shown_run.name != settings.run:
            self.history.clear()  # a different run: its own curves (resumes read events)
        self._history_live = True
        self.controls.clear_log((settings.pretrained_g, settings.pretrained_d))
        self.session.reset()
        self._say("Starting training…")
        self.job = self.client.start_job("train", settings.to_job_args(self.project))
        self.job.subscribe(self._on_job_changed)
        self._update_controls()
        return self.job

    def _on_job_start_error(self, job: JobHandle) -> None:
        self._say(f"Could not start training: {job.error_message}")
        self._update_controls()

    def toggle_pause(self) -> str | None:
        if not self.session.running or not self.session.job_id:
            return None
        cmd = "job.resume" if self.session.paused else "job.pause"
        return self.client.request(cmd, {"job_id": self.session.job_id},
                                   self._on_pause_result,
                                   lambda e: self._say(f"Could not {cmd[4:]}: {e.message}"))

    def _on_pause_result(self, result: dict[str, Any]) -> None:
        if result.get("job_id") == self.session.job_id and "paused" in result:
            self.session.paused = bool(result["paused"])
            self._show_status()

    def stop_training(self) -> str | None:
        if not self.session.running or not self.session.job_id:
            return None
        self.session.stopping = True
        self._show_status()
        self._update_controls()
        return self.client.cancel_job(self.job) if self.job is not None else None

    def _on_training_finished(self) -> None:
        self._say(self.session.status_text())
        self._update_controls()
        self.plot.repaint_curves()  # the final state, without waiting for the timer
        state = self.controller.state
        if (state.path if state else None) != self.project:
            self.set_project(state)  # the project changed while training ran
        elif self.project:
            self.refresh()

    # view --------------------------------------------------------------------------------
    def _say(self, text: str) -> None:
        self.controls.say(text)

    def _show_status(self) -> None:
        self.controls.show_session(self.session)

    def _update_controls(self) -> None:
        problems = self.form.values().validate(self.form.cuda_available)
        self.form.show_problems(problems)
        blocker = start_blocker(self.suggestion, problems, bool(self.project), self.running)
        if self.project and not self.running:  # the backend could not say
            no_answer = self.choices.error if self.suggestion is None else ""
            blocker = self._suggest_error or no_answer or blocker
        self.controls.enable(blocker, self.session, self.running)
        self.problems_label.setText(
            "\n".join(f"• {p}" for p in self.suggestion.problems)
            if self.suggestion and not self.suggestion.ready else "")
        self.form.setEnabled(not self.running)
        self._update_output()

    def _fill_tables(self) -> None:
        self.files.set_items(self.session.samples, self.session.checkpoints)
        self.files.set_samples_title(SAMPLES_TITLES[self.kind])
        self._update_output()

    def _update_output(self) -> None:
        state = self.controller.state
        run = self.shown_run.name if self.shown_run else self.form.values().run
        self.output.set_context(OutputContext(
            project=self.project, file_stem=state.file_stem if state else "", run=run,
            has_checkpoint=bool(self.session.checkpoints), training=self.running,
            features_ready=self._features_ready(), model=self.kind))

    def _features_ready(self) -> bool | None:
        """The voice-conversion suggestion's readiness (the index needs its features)."""
        sug = self.choices.suggestions.get("rvc")
        return sug.ready if sug else None
