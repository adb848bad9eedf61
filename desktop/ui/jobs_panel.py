"""QtJobsPanel: one row per backend job (kind, stage, progress bar, ETA, cancel).

It views the client's ``JobBook``: the same ``JobHandle`` objects the pages follow, so
a job shows here from the moment a page asks for it, and jobs started by others too.
"""

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

from desktop.components.job_handle import JobHandle
from desktop.components.request_book import JobBook

COLUMNS = ("Job", "Stage", "Progress", "ETA", "Status", "")
COL_KIND, COL_STAGE, COL_PROGRESS, COL_ETA, COL_STATUS, COL_CANCEL = range(6)
UNSHOWN_EVENTS = ("job.metrics", "train.sample", "train.checkpoint", "log")  # no cell changes


class QtJobsPanel(QWidget):
    def __init__(self, book: JobBook, cancel: Callable[[JobHandle], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.book = book
        self._cancel = cancel
        self._rows: dict[int, int] = {}  # id(handle) -> row
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
        book.subscribe(self._on_book_changed)
        self._rebuild()

    # public for tests and other views ---------------------------------------------
    def handle(self, job: JobHandle | str) -> JobHandle | None:
        """The shown handle: itself, or the one of a job id."""
        if isinstance(job, JobHandle):
            return job if id(job) in self._rows else None
        return next((h for h in self.book.handles() if h.job_id == job), None)

    def row_of(self, job: JobHandle | str) -> int | None:
        handle = self.handle(job)
        return None if handle is None else self._rows.get(id(handle))

    def progress_bar(self, job: JobHandle | str) -> QProgressBar | None:
        row = self.row_of(job)
        return None if row is None else self.table.cellWidget(row, COL_PROGRESS)

    def cancel_button(self, job: JobHandle | str) -> QPushButton | None:
        row = self.row_of(job)
        return None if row is None else self.table.cellWidget(row, COL_CANCEL)

    def cell_text(self, job: JobHandle | str, column: int) -> str:
        row = self.row_of(job)
        item = None if row is None else self.table.item(row, column)
        return item.text() if item is not None else ""

    # model -> view -------------------------------------------------------------------
    def _on_book_changed(self, handle: JobHandle, event: str, _data: dict) -> None:
        row = self._rows.get(id(handle))
        if row is not None and event in UNSHOWN_EVENTS:
            return
        if row is None or len(self._rows) != len(self.book.handles()):
            self._rebuild()
        else:
            self._fill(row, handle)

    def _rebuild(self) -> None:
        handles = self.book.handles()
        self.table.setRowCount(0)
        self._rows = {}
        for row, handle in enumerate(handles):
            self.table.insertRow(row)
            self._rows[id(handle)] = row
            bar = QProgressBar()
            bar.setRange(0, 1000)
            self.table.setCellWidget(row, COL_PROGRESS, bar)
            button = QPushButton("Cancel")
            button.setToolTip(f"Cancel this {handle.kind} job")
            button.clicked.connect(lambda _=False, h=handle: self._cancel(h))
            self.table.setCellWidget(row, COL_CANCEL, button)
            self._fill(row, handle)
        self.empty_label.setVisible(not handles)

    def _fill(self, row: int, job: JobHandle) -> None:
        error = job.error_message if job.state == "failed" else ""
        status = f"{job.state}: {error}" if error else job.state
        stage = "cancelling" if job.cancel_requested and not job.finished else job.stage
        values = {COL_KIND: job.kind or job.job_id or "", COL_STAGE: stage,
                  COL_ETA: job.eta_text(), COL_STATUS: status}
        for col, text in values.items():
            item = QTableWidgetItem(text)
            if col == COL_STATUS and error:
                item.setToolTip(error)
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
    def _on_clear_clicked(self) -> None:
        self.book.clear_finished()
        self._rebuild()
