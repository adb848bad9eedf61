"""QtTrainControls: Start, Pause/Continue and Stop of the Train page, with the line that
says why Start is disabled, the progress bar, the status line and the job's warnings.

A view of the page's ``TrainSession``; the page connects the buttons and decides."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QVBoxLayout, QWidget

from desktop.components.train_runs import TrainSession
from desktop.ui.elided_label import QtElidedLabel

MAX_WARNINGS = 5


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
        buttons = QHBoxLayout()
        for b in (self.start_btn, self.pause_btn, self.stop_btn):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        for w in (self.blocker_label, self.progress, self.status_label, self.warnings_label):
            layout.addWidget(w)

    def say(self, text: str) -> None:
        self.status_label.setText(text)

    def add_warning(self, message: str) -> None:
        """A warning of the job (pretrained keys that did not fit, the OOM fallback)."""
        kept = self.warnings_label.text().splitlines()[-(MAX_WARNINGS - 1):]
        self.warnings_label.setText("\n".join([*kept, f"⚠ {message}"]))
        self.warnings_label.setVisible(True)

    def clear_warnings(self) -> None:
        self.warnings_label.setText("")
        self.warnings_label.setVisible(False)

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
