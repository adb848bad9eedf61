"""QtJobsPanel: one row per backend job (kind, stage, progress bar, ETA, cancel)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.components.jobs import JobInfo, JobsModel

COLUMNS = ("Job", "Stage", "Progress", "ETA", "Status", "")
COL_KIND, COL_STAGE, COL_PROGRESS, COL_ETA, COL_STATUS, COL_CANCEL = range(6)


class QtJobsPanel(QWidget):
    def __init__(self, model: JobsModel, cancel: Callable[[str], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._cancel = cancel
        self._rows: dict[str, int] = {}
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_PROGRESS, QHeaderView.ResizeMode.Stretch)
        self.empty_label = QLabel("No jobs yet. Imports, preparation and training show here.")
        clear = QPushButton("Clear finished")
        clear.clicked.connect(self._on_clear_clicked)
        bar = QHBoxLayout()
        bar.addWidget(self.empty_label, 1)
        bar.addWidget(clear)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.table)
        model.subscribe(self._on_model_changed)
        self._rebuild()

    # public for tests and other views ---------------------------------------------
    def row_of(self, job_id: str) -> int | None:
        return self._rows.get(job_id)

    def progress_bar(self, job_id: str) -> QProgressBar | None:
        row = self._rows.get(job_id)
        return None if row is None else self.table.cellWidget(row, COL_PROGRESS)

    def cancel_button(self, job_id: str) -> QPushButton | None:
        row = self._rows.get(job_id)
        return None if row is None else self.table.cellWidget(row, COL_CANCEL)

    def cell_text(self, job_id: str, column: int) -> str:
        row = self._rows.get(job_id)
        item = None if row is None else self.table.item(row, column)
        return item.text() if item is not None else ""

    # model -> view -------------------------------------------------------------------
    def _on_model_changed(self, job_id: str) -> None:
        job = self.model.get(job_id)
        if job is None or job_id not in self._rows:
            self._rebuild()
        else:
            self._fill(self._rows[job_id], job)

    def _rebuild(self) -> None:
        jobs = self.model.jobs()
        self.table.setRowCount(0)
        self._rows = {}
        for row, job in enumerate(jobs):
            self.table.insertRow(row)
            self._rows[job.job_id] = row
            bar = QProgressBar()
            bar.setRange(0, 1000)
            self.table.setCellWidget(row, COL_PROGRESS, bar)
            button = QPushButton("Cancel")
            button.setToolTip(f"Cancel job {job.job_id}")
            button.clicked.connect(lambda _=False, jid=job.job_id: self._on_cancel_clicked(jid))
            self.table.setCellWidget(row, COL_CANCEL, button)
            self._fill(row, job)
        self.empty_label.setVisible(not jobs)

    def _fill(self, row: int, job: JobInfo) -> None:
        status = job.status if not job.error or job.status == "cancelled" else \
            f"{job.status}: {job.error}"
        values = {COL_KIND: job.kind or job.job_id, COL_STAGE: job.stage,
                  COL_ETA: job.eta_text(), COL_STATUS: status}
        for col, text in values.items():
            item = QTableWidgetItem(text)
            if col == COL_STATUS and job.error:
                item.setToolTip(job.error)
            self.table.setItem(row, col, item)
        bar = self.table.cellWidget(row, COL_PROGRESS)
        fraction = job.fraction
        if fraction is None and not job.finished:
            bar.setRange(0, 0)  # busy indicator: total unknown
        else:
            bar.setRange(0, 1000)
            bar.setValue(int(round((fraction or 0.0) * 1000)))
        bar.setFormat(f"{job.done:g}/{job.total:g}" if job.total else "%p%")
        button = self.table.cellWidget(row, COL_CANCEL)
        button.setEnabled(not job.finished and not job.cancel_requested)

    # user -------------------------------------------------------------------------------
    def _on_cancel_clicked(self, job_id: str) -> None:
        self.model.mark_cancel_requested(job_id)
        self._cancel(job_id)

    def _on_clear_clicked(self) -> None:
        self.model.clear_finished()
        self._rebuild()
