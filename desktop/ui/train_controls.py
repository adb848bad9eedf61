"""QtTrainControls: Start, Pause/Continue and Stop of the Train page, with the line that
says why Start is disabled, the progress bar, the status line, the job's warnings and the
report of how the pretrained bases were fitted (a ``JobLog``).

A view of the page's ``TrainSession``; the page connects the buttons and decides."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QVBoxLayout, QWidget

from desktop.components.train_log import MAX_WARNINGS, JobLog
from desktop.components.train_runs import TrainSession
from desktop.ui.elided_label import QtElidedLabel


class QtTrainControls(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.start_btn = QPushButton("Start")
        self.pause_btn = QPushButton("Pause")
        self.stop_btn = QPushButton("Stop")
        self.stop_btn.setToolTip("Save a checkpoint and stop; Start resumes from it")
        self.blocker_label = QtElidedLabel(lines=3)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status_label = QtElidedLabel(lines=3)
        self.status_label.setObjectName("train_status")
        self.warnings_label = QtElidedLabel(lines=MAX_WARNINGS)
        self.warnings_label.setObjectName("train_warnings")
        self.warnings_label.setStyleSheet("color: #8a5a00;")
        self.warnings_label.setVisible(False)
        self.report_label = QtElidedLabel(lines=4)  # the whole report in its tooltip
        self.report_label.setObjectName("train_base_report")
        self.report_label.setVisible(False)
        self.log = JobLog()
        buttons = QHBoxLayout()
        for b in (self.start_btn, self.pause_btn, self.stop_btn):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        for w in (self.blocker_label, self.progress, self.status_label, self.warnings_label,
                  self.report_label):
            layout.addWidget(w)

    def say(self, text: str) -> None:
        self.status_label.setText(text)

    def add_log(self, level: str, message: str) -> None:
        """A log line of the job: a warning, or a line of a base's report, is shown."""
        if self.log.take(level, message):
            self._show_log()

    def clear_log(self, bases: tuple[str | None, ...] = ()) -> None:
        """A new job, started with the pretrained files ``bases``."""
        self.log = JobLog(bases)
        self._show_log()

    def _show_log(self) -> None:
        for label, text in ((self.warnings_label, self.log.warnings_text()),
                            (self.report_label, self.log.report_text())):
            label.setText(text)
            label.setVisible(bool(text))

    def show_session(self, s: TrainSession) -> None:
        """Progress, status line and the Pause/Continue name of the running job."""
        self.progress.setVisible(s.running and s.total > 0)
        if s.total > 0:
            self.progress.setRange(0, s.total)
            self.progress.setValue(min(s.step, s.total))
        self.say(s.status_text())
        self.pause_btn.setText("Continue" if s.paused else "Pause")

    def enable(self, blocker: str, s: TrainSession, running: bool) -> None:
        """Start unless ``blocker`` says why not; Pause and Stop while the job runs."""
        self.start_btn.setEnabled(not blocker)
        self.start_btn.setToolTip(blocker)
        self.blocker_label.setText(blocker if not running else "")
        live = s.running and bool(s.job_id)
        self.pause_btn.setEnabled(live and not s.stopping)
        self.stop_btn.setEnabled(live and not s.stopping)
        if not running:
            self.progress.setVisible(False)
        self.pause_btn.setText("Continue" if s.paused else "Pause")
