"""QtAssetsPage ("Models & assets"): every catalogue asset, installed or not; get or remove them.

The table groups the ``assets.list`` rows (content encoders, pitch, pretrained bases v1
and v2). Each row shows its status (installed, partial download and where it resumes, a
running download with its progress bar, the last error), its size, what needs it, and
Download / Import… / Remove buttons. Downloads and imports are ``assets`` jobs (they also
appear in the Jobs panel); Remove is the ``assets.remove`` command. The list is reloaded
after every ``assets`` job, whichever page started it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backend.protocol import Error
from desktop.backend_client import BackendClient
from desktop.components.assets import (
    STRUCTURE_ONLY_TIP,
    AssetRow,
    AssetsModel,
    error_text,
    job_error,
)
from desktop.components.job_handle import JobHandle
from desktop.components.settings import AppSettings
from desktop.ui import file_dialogs
from desktop.ui.elided_label import QtElidedLabel

COLUMNS = ("Asset", "Status", "Size", "Needed by", "Progress", "")
COL_NAME, COL_STATUS, COL_SIZE, COL_NEEDED, COL_PROGRESS, COL_ACTIONS = range(len(COLUMNS))
ERROR_COLOUR = QColor("#b00020")
WARNING_COLOUR = QColor("#a05a00")


class QtAssetsPage(QWidget):
    def __init__(self, client: BackendClient, settings: AppSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client, self.app_settings = client, settings
        self.model = AssetsModel()
        self.requested = False  # assets.list asked at least once
        self.error_box: QMessageBox | None = None
        self._row_index: dict[str, int] = {}
        self._buttons: dict[str, dict[str, QPushButton]] = {}
        self._bars: dict[str, QProgressBar] = {}
        self._build()
        client.jobs.subscribe(self._on_job_changed)  # every assets job, whoever started it
        client.sig_hello.connect(self._on_client_hello)

    def _build(self) -> None:
        self.folder_label = QtElidedLabel("Model files are kept in the user data folder.",
                                          elide=Qt.TextElideMode.ElideMiddle)
        self.refresh_btn = QPushButton("Refresh")
        self.refresh_btn.clicked.connect(self.refresh)
        bar = QHBoxLayout()
        bar.addWidget(self.folder_label, 1)
        bar.addWidget(self.refresh_btn)
        self.message = QtElidedLabel("", lines=3)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_STATUS, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_NEEDED, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_SIZE, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_ACTIONS, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setColumnWidth(COL_PROGRESS, 100)  # cut cells show all in their tooltip
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)

    # loading ----------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if not self.requested:
            self.refresh()

    def _on_client_hello(self, _hello: object) -> None:
        if self.model.loaded:  # the backend restarted: its answer may differ
            self.refresh()

    def refresh(self) -> str:
        """Ask the backend for ``assets.list``; the table is rebuilt when it answers."""
        self.requested = True
        return self.client.request("assets.list", {}, self._on_list_result,
                                   self._on_list_error)

    def _on_list_result(self, result: dict) -> None:
        self.model.load(result)
        if self.model.data_dir:
            self.folder_label.setText(f"Model files are kept in {self.model.data_dir}")
        self._rebuild()

    def _on_list_error(self, err: Error) -> None:
        self.message.setText(f"Could not list the model assets: {err.message}")

    # table ---------------------------------------------------------------------------------
    def _rebuild(self) -> None:
        groups = self.model.grouped()
        self.table.clearSpans()
        self.table.setRowCount(0)  # drops the old rows' widgets
        self.table.setRowCount(sum(len(rows) + 1 for _t, rows in groups))
        self._row_index, self._buttons, self._bars = {}, {}, {}
        index = 0
        for title, rows in groups:
            self._add_group_row(index, title)
            index += 1
            for row in rows:
                self._row_index[row.name] = index
                self._fill_row(index, row)
                index += 1
        self.table.resizeColumnToContents(COL_NAME)
        self.table.setColumnWidth(COL_NAME, min(self.table.columnWidth(COL_NAME), 220))

    def _add_group_row(self, index: int, title: str) -> None:
        item = QTableWidgetItem(title)
        font = QFont(item.font())
        font.setBold(True)
        item.setFont(font)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        self.table.setItem(index, 0, item)
        for col in range(1, len(COLUMNS)):
            self.table.setItem(index, col, QTableWidgetItem(""))
        self.table.setSpan(index, 0, 1, len(COLUMNS))

    def _fill_row(self, index: int, row: AssetRow) -> None:
        status = row.status_cell
        for col, text in ((COL_NAME, row.title), (COL_STATUS, status),
                          (COL_SIZE, row.size_text), (COL_NEEDED, row.needed_by)):
            item = QTableWidgetItem(text)
            item.setToolTip(f"{row.name}\n{row.tooltip}" if col == COL_NAME else text)
            if col == COL_NAME:
                item.setData(Qt.ItemDataRole.UserRole, row.name)
            if col == COL_STATUS and (row.error or row.warning):
                item.setForeground(QBrush(ERROR_COLOUR if row.error else WARNING_COLOUR))
                if row.warning and not row.error:
                    item.setToolTip(f"{text}\n{STRUCTURE_ONLY_TIP}")
            self.table.setItem(index, col, item)
        # the view shows its cell widgets itself, so the bar hides inside a holder
        holder = QWidget()
        holder_layout = QHBoxLayout(holder)
        holder_layout.setContentsMargins(2, 2, 2, 2)
        bar = QProgressBar()
        holder_layout.addWidget(bar)
        self._bars[row.name] = bar
        self.table.setCellWidget(index, COL_PROGRESS, holder)
        self._set_bar(bar, row)
        self.table.setCellWidget(index, COL_ACTIONS, self._actions(row))

    @staticmethod
    def _set_bar(bar: QProgressBar, row: AssetRow) -> None:
        bar.setVisible(row.busy)
        if row.fraction is None:
            bar.setRange(0, 0)
        else:
            bar.setRange(0, 1000)
            bar.setValue(int(row.fraction * 1000))

    def _actions(self, row: AssetRow) -> QWidget:
        box = QWidget()
        layout = QHBoxLayout(box)
        layout.setContentsMargins(2, 0, 2, 0)
        buttons = {"download": QPushButton("Download"), "import": QPushButton("Import…"),
                   "remove": QPushButton("Remove")}
        buttons["download"].setEnabled(row.can_download)
        buttons["import"].setEnabled(row.can_import)
        buttons["remove"].setEnabled(row.can_remove)
        buttons["download"].clicked.connect(lambda: self.download(row.name))
        buttons["import"].clicked.connect(lambda: self._on_import_clicked(row.name))
        buttons["remove"].clicked.connect(lambda: self._on_remove_clicked(row.name))
        for b in buttons.values():
            layout.addWidget(b)
        self._buttons[row.name] = buttons
        return box

    def _update_row(self, name: str) -> None:
        index = self._row_index.get(name)
        if index is None:
            return
        self._fill_row(index, self.model.row(name))

    # queries (tests and other pages) ------------------------------------------------------
    def button(self, name: str, action: str) -> QPushButton:
        return self._buttons[name][action]

    def progress_bar(self, name: str) -> QProgressBar:
        return self._bars[name]

    def cell_text(self, name: str, col: int) -> str:
        item = self.table.item(self._row_index[name], col)
        return item.text() if item is not None else ""

    def group_titles(self) -> list[str]:
        return [self.table.item(r, 0).text() for r in range(self.table.rowCount())
                if self.table.columnSpan(r, 0) == len(COLUMNS)]

    # actions --------------------------------------------------------------------------------
    def pick_file(self, name: str) -> str:
        """The file to import as ``name`` ("" if cancelled). Tests replace this."""
        return file_dialogs.open_file(self, self.app_settings, "asset_import",
                                      f"Import a file as {name}", file_dialogs.MODEL_FILTER)

    def confirm_remove(self, name: str) -> bool:
        """Ask before deleting a file. Tests replace this."""
        answer = QMessageBox.question(self, "Remove model file",
                                      f"Delete the installed file of {name} (and any partial "
                                      "download)? You can download or import it again later.")
        return answer == QMessageBox.StandardButton.Yes

    def download(self, name: str) -> JobHandle:
        return self._start(name, {"action": "download", "name": name})

    def import_file(self, name: str, path: str) -> JobHandle:
        return self._start(name, {"action": "import", "path": path, "name": name})

    def _on_import_clicked(self, name: str) -> None:
        path = self.pick_file(name)
        if path:
            self.import_file(name, path)

    def _on_remove_clicked(self, name: str) -> None:
        if self.confirm_remove(name):
            self.remove(name)

    def remove(self, name: str) -> str:
        def done(result: dict) -> None:
            removed = result.get("removed") or []
            self.message.setText(f"Removed {name} ({len(removed)} file(s))." if removed else
                                 f"{name} was not installed.")
            self.refresh()

        def failed(err: Error) -> None:
            self._show_error(name, f"Could not remove {name}: {err.message}")

        return self.client.request("assets.remove", {"name": name}, done, failed)

    def _start(self, name: str, args: dict) -> JobHandle:
        """Start an ``assets`` job; its row follows the handle (see ``_on_job_changed``)."""
        job = self.client.start_job("assets", args)
        job.subscribe(self._on_own_job_changed)
        return job

    def _on_own_job_changed(self, job: JobHandle, event: str, _data: dict) -> None:
        if event == "refused":  # a refused start of this page's: say it here
            name = str(job.args.get("name"))
            self._show_error(name, error_text(job.error_code, job.error_message))

    def _show_error(self, name: str, text: str) -> None:
        self.message.setText(text)
        box = QMessageBox(QMessageBox.Icon.Warning, f"{name}: failed", text,
                          QMessageBox.StandardButton.Ok, self)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_box = box
        box.open()

    # assets jobs (from every page) ----------------------------------------------------------
    def _on_job_changed(self, job: JobHandle, event: str, _data: dict) -> None:
        if job.kind != "assets":
            return
        name = self.model.name_of(job)
        if name is None and event in ("requested", "job.started"):
            name = self.model.track(job)  # a new attempt: the row shows it from now on
        if name is None:
            return
        if event == "job.progress":
            self._update_progress(name)
            return
        self._update_row(name)
        if event != "job.finished":
            return
        if job.state == "failed":
            self._show_error(name, job_error(job) or "failed")
        elif job.state == "ok":
            self.message.setText(_done_text(name, job.result))
        if self.requested:
            self.refresh()

    def _update_progress(self, name: str) -> None:
        index, bar = self._row_index.get(name), self._bars.get(name)
        if index is None or bar is None:
            return
        row = self.model.row(name)
        self._set_bar(bar, row)
        item = self.table.item(index, COL_STATUS)
        if item is not None:
            item.setText(row.status_cell)


def _done_text(name: str, result: object) -> str:
    status = result.get("status") if isinstance(result, dict) else None
    how = {"downloaded": "downloaded", "imported": "imported",
           "already_installed": "already installed"}.get(str(status), "installed")
    if not isinstance(result, dict):
        return f"{name} {how}."
    note = result.get("verified_note") or (
        f"verified by {result['verified_by']}" if result.get("verified_by") else "")
    return f"{name} {how}" + (f"; {note}." if note else ".")
