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
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backend.protocol import Error, Event
from desktop.backend_client import BackendClient
from desktop.components.assets import AssetRow, AssetsModel, error_text
from desktop.components.settings import AppSettings
from desktop.ui import file_dialogs

COLUMNS = ("Asset", "Status", "Size", "Needed by", "Progress", "")
COL_NAME, COL_STATUS, COL_SIZE, COL_NEEDED, COL_PROGRESS, COL_ACTIONS = range(len(COLUMNS))
ERROR_COLOUR = QColor("#b00020")


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
        client.sig_job_event.connect(self._on_client_job_event)
        client.sig_hello.connect(self._on_client_hello)

    def _build(self) -> None:
        self.folder_label = QLabel("Model files are kept in the user data folder.")
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.refresh_btn = QPushButton("Refresh")
        self.refresh_btn.clicked.connect(self.refresh)
        bar = QHBoxLayout()
        bar.addWidget(self.folder_label, 1)
        bar.addWidget(self.refresh_btn)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_STATUS, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_NEEDED, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_ACTIONS, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setColumnWidth(COL_PROGRESS, 130)
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
        self.table.setColumnWidth(COL_NAME, min(self.table.columnWidth(COL_NAME), 260))

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
            if col == COL_STATUS and row.error:
                item.setForeground(QBrush(ERROR_COLOUR))
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

    def download(self, name: str) -> str:
        return self._start(name, {"action": "download", "name": name})

    def import_file(self, name: str, path: str) -> str:
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

    def _start(self, name: str, args: dict) -> str:
        self.model.job_started("", args)  # busy at once; the job id follows job.started
        self._update_row(name)

        def refused(err: Error) -> None:
            self.model.fail(name, err.code, err.message)
            self._update_row(name)
            self._show_error(name, error_text(err.code, err.message))

        return self.client.start_job("assets", args, on_error=refused)

    def _show_error(self, name: str, text: str) -> None:
        self.message.setText(text)
        box = QMessageBox(QMessageBox.Icon.Warning, f"{name}: failed", text,
                          QMessageBox.StandardButton.Ok, self)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_box = box
        box.open()

    # job events (from every page) ----------------------------------------------------------
    def _on_client_job_event(self, ev: Event) -> None:
        data = ev.data
        if ev.event == "job.started" and data.get("kind") == "assets":
            args = data.get("args") if isinstance(data.get("args"), dict) else {}
            name = args.get("name")
            pending = self.model.activity.get(name) if isinstance(name, str) else None
            if pending is not None and not pending.job_id:
                pending.job_id = str(data.get("job_id"))
            else:
                name = self.model.job_started(str(data.get("job_id")), args)
            if name:
                self._update_row(name)
        elif ev.event == "job.progress":
            name = self.model.progress(data) if self._is_assets_job(data) else None
            if name:
                self._update_progress(name)
        elif ev.event == "job.finished" and data.get("kind") == "assets":
            self._on_assets_job_finished(data)

    def _is_assets_job(self, data: dict) -> bool:
        return self.model.name_of_job(str(data.get("job_id") or "")) is not None

    def _update_progress(self, name: str) -> None:
        index, bar = self._row_index.get(name), self._bars.get(name)
        if index is None or bar is None:
            return
        row = self.model.row(name)
        self._set_bar(bar, row)
        item = self.table.item(index, COL_STATUS)
        if item is not None:
            item.setText(row.status_cell)

    def _on_assets_job_finished(self, data: dict) -> None:
        name = self.model.finished(data)
        if name is not None:
            self._update_row(name)
            if data.get("status") == "failed":
                self._show_error(name, self.model.errors.get(name, "failed"))
            elif data.get("status") == "ok":
                self.message.setText(_done_text(name, data.get("result")))
        if self.requested:
            self.refresh()


def _done_text(name: str, result: object) -> str:
    status = result.get("status") if isinstance(result, dict) else None
    how = {"downloaded": "downloaded", "imported": "imported",
           "already_installed": "already installed"}.get(str(status), "installed")
    verified = result.get("verified_by") if isinstance(result, dict) else None
    return f"{name} {how}" + (f" (verified by {verified})." if verified else ".")
