"""QtHealthReport: the dataset health report written by the ``prepare`` job.

Clips are named by their recording and position (``take 1.wav 0:03.2–0:05.8``), the
clip file in the tooltip. A vertical splitter (``health_splitter``): the totals and the
recommendation above (they scroll when the pane is short, so their lines never overlap),
the problems table below.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.components.clip_names import clip_label
from desktop.ui.elided_label import QtElidedLabel
from desktop.ui.scrolling import vertical_scroll

PROBLEM_COLUMNS = ("Clip", "Problem", "Severity", "Message")


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)):
        return "—"
    secs = int(round(seconds))
    if secs < 60:
        return f"{seconds:.1f} s"
    return f"{secs // 3600} h {secs % 3600 // 60:02d} min" if secs >= 3600 else \
        f"{secs // 60} min {secs % 60:02d} s"


class QtHealthReport(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report: dict[str, Any] | None = None
        self.message = QtElidedLabel("No health report yet: add recordings, then press "
                                     "Prepare.", lines=4)
        self.totals = QGroupBox("Totals")
        form = QFormLayout(self.totals)
        self.total_label, self.usable_label = QLabel(), QLabel()
        self.clips_label = QLabel()
        self.failed_label = QtElidedLabel(lines=4)
        self.counts_label = QtElidedLabel(lines=2)
        form.addRow("Total audio:", self.total_label)
        form.addRow("Usable audio:", self.usable_label)
        form.addRow("Clips (usable / all):", self.clips_label)
        form.addRow("Problems:", self.counts_label)
        form.addRow("Sources that failed:", self.failed_label)
        self.recommendation = QLabel()
        self.recommendation.setWordWrap(True)
        self.recommendation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.params_label = QLabel()
        self.params_label.setWordWrap(True)
        rec_box = QGroupBox("Recommendation")
        rec_layout = QVBoxLayout(rec_box)
        rec_layout.addWidget(self.recommendation)
        rec_layout.addWidget(self.params_label)
        self.problems = QTableWidget(0, len(PROBLEM_COLUMNS))
        self.problems.setHorizontalHeaderLabels(list(PROBLEM_COLUMNS))
        self.problems.verticalHeader().setVisible(False)
        self.problems.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.problems.horizontalHeader().setSectionResizeMode(
            3, QHeaderView.ResizeMode.Stretch)
        self.problems_title = QLabel("Problems per clip:")
        summary = QWidget()
        summary_layout = QVBoxLayout(summary)
        summary_layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.message, self.totals, rec_box):
            summary_layout.addWidget(w)
        summary_layout.addStretch(1)
        scroll = vertical_scroll(summary, min_height=70, frame=False)
        problems = QWidget()
        problems_layout = QVBoxLayout(problems)
        problems_layout.setContentsMargins(0, 0, 0, 0)
        problems_layout.addWidget(self.problems_title)
        problems_layout.addWidget(self.problems, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("health_splitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(scroll)
        self.splitter.addWidget(problems)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)
        self.set_report(None)

    def set_report(self, report: dict[str, Any] | None, error: str | None = None) -> None:
        self.report = report
        has = report is not None
        for w in (self.totals, self.recommendation.parentWidget(), self.problems_title,
                  self.problems, self.problems.parentWidget()):
            w.setVisible(has)
        if error:
            self.message.setText(error)
        elif not has:
            self.message.setText("No health report yet: add recordings, then press Prepare.")
        self.message.setVisible(bool(error) or not has)
        if report is not None:
            self._fill(report)

    def _fill(self, r: dict[str, Any]) -> None:
        self.total_label.setText(_duration(r.get("total_seconds")))
        self.usable_label.setText(_duration(r.get("usable_seconds")))
        self.clips_label.setText(f"{r.get('usable_clips', '—')} / {r.get('clips', '—')}")
        counts = r.get("problem_counts") or {}
        self.counts_label.setText(", ".join(f"{k}: {v}" for k, v in counts.items())
                                  if isinstance(counts, dict) and counts else "none")
        failed = r.get("sources_failed") or []
        self.failed_label.setText(
            "none" if not failed else
            "; ".join(f"{f.get('path')}: {f.get('message')}" for f in failed
                      if isinstance(f, dict)))
        rec = r.get("recommendation") or {}
        self.recommendation.setText(str(rec.get("text") or "No recommendation."))
        params = [f"{k.replace('_', ' ')}: {rec[k]}" for k in
                  ("mode", "base_g", "base_d", "learning_rate", "epochs", "batch_size")
                  if rec.get(k) is not None]
        self.params_label.setText(" · ".join(params))
        problems = [p for p in r.get("problems") or [] if isinstance(p, dict)]
        self.problems.setRowCount(len(problems))
        for row, p in enumerate(problems):
            for col, key in enumerate(("clip", "kind", "severity", "message")):
                text = clip_label(p) if key == "clip" else str(p.get(key, ""))
                item = QTableWidgetItem(text)
                item.setToolTip(str(p.get("path") or p.get("clip") or "") if key == "clip"
                                else text)
                self.problems.setItem(row, col, item)
