"""QtStartupReport: a start-up problem, with a report the user can copy; QtNoticeBar.

The dialog says what failed (the data folder cannot be written, the drive is full, the
backend did not start, the app stopped with an error) and shows the whole plain-text
report (``startup_checks.report_text``) in a read-only box, with "Copy report" (the
clipboard), "Open log folder", and Continue / Quit. For a crash there is nothing to
continue: only Quit. Non-blocking (``open()``/``show()``); ``sig_quit`` says the user
chose Quit.

``QtNoticeBar`` holds the main window's notes and warnings from the checks (the CPU
fallback, little disk space), in the status bar, with a Dismiss button.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.components.startup_checks import FAILURE, WARNING, CheckResult
from desktop.ui.elided_label import QtElidedLabel

UrlOpener = Callable[[QUrl], bool]
MIN_SIZE = (560, 360)


class QtStartupReport(QDialog):
    sig_quit = Signal()

    def __init__(self, headline: str, report: str, log_dir: str, *, crash: bool = False,
                 open_url: UrlOpener | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report, self.log_dir = report, log_dir
        self.open_url: UrlOpener = open_url or QDesktopServices.openUrl
        self.setWindowTitle("Timbre Studio: a problem at start-up")
        self.setObjectName("startup_report")
        self.setMinimumSize(*MIN_SIZE)
        self.headline = QLabel(headline)
        self.headline.setWordWrap(True)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        hint = QLabel("The report below says what was checked. Copy it into a bug report, "
                      "with the files of the log folder.")
        hint.setWordWrap(True)
        self.text = QPlainTextEdit(report)
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.copy_btn = QPushButton("Copy report")
        self.copy_btn.clicked.connect(self.copy_report)
        self.log_btn = QPushButton("Open log folder")
        self.log_btn.clicked.connect(self.open_log_folder)
        self.continue_btn = QPushButton("Continue")
        self.continue_btn.clicked.connect(self.accept)
        self.continue_btn.setVisible(not crash)
        self.quit_btn = QPushButton("Quit")
        self.quit_btn.clicked.connect(self._on_quit_clicked)
        (self.quit_btn if crash else self.continue_btn).setDefault(True)
        buttons = QHBoxLayout()
        for b in (self.copy_btn, self.log_btn):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.continue_btn)
        buttons.addWidget(self.quit_btn)
        self.status = QLabel("")
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(hint)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.resize(720, 480)

    def copy_report(self) -> None:
        QGuiApplication.clipboard().setText(self.report)
        self.status.setText("The report is on the clipboard.")

    def open_log_folder(self) -> bool:
        try:
            Path(self.log_dir).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.status.setText(f"Cannot open the log folder {self.log_dir}: "
                                f"{exc.strerror or exc}")
            return False
        ok = bool(self.open_url(QUrl.fromLocalFile(self.log_dir)))
        self.status.setText("" if ok else f"No program to show {self.log_dir} was found.")
        return ok

    def _on_quit_clicked(self) -> None:
        self.sig_quit.emit()
        self.reject()


class QtNoticeBar(QFrame):
    """The notes and warnings in one line (in the status bar: it takes no height from the
    pages), their whole text in the tooltip, with Dismiss; hidden when there are none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notice_bar")
        self.setStyleSheet("#notice_bar { background: #fff3c4; border-radius: 3px; }")
        self.label = QtElidedLabel()
        self.dismiss_btn = QToolButton()
        self.dismiss_btn.setText("Dismiss")
        self.dismiss_btn.setAutoRaise(True)
        self.dismiss_btn.clicked.connect(self.dismiss_all)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.dismiss_btn)
        self._notices: dict[str, CheckResult] = {}
        self.hide()

    def notices(self) -> dict[str, str]:
        """key -> the whole text of that notice."""
        return {k: _notice_text(r) for k, r in self._notices.items()}

    def add(self, result: CheckResult) -> None:
        """Show (or replace) the notice for ``result.name``."""
        self._notices[result.name] = result
        self._refresh()

    def dismiss(self, key: str) -> None:
        self._notices.pop(key, None)
        self._refresh()

    def dismiss_all(self) -> None:
        self._notices.clear()
        self._refresh()

    def _refresh(self) -> None:
        results = list(self._notices.values())
        self.label.setText("  •  ".join(r.summary for r in results))
        self.label.setToolTip("\n\n".join(_notice_text(r) for r in results))
        self.setVisible(bool(results))


def _notice_text(result: CheckResult) -> str:
    prefix = "Warning: " if result.level in (WARNING, FAILURE) else ""
    return f"{prefix}{result.summary} {result.detail}".strip()
