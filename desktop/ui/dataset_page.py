"""QtDatasetPage: add recordings (drop or pick), see the sources, prepare, read the report.

Layout: a toolbar and the preparation settings on top, then a vertical
QSplitter (``self.splitter``) whose upper pane holds the sources table and the
health report and whose lower pane is ``self.editor_container``, where the
waveform editor goes (``set_editor(widget)``).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.backend_client import BackendClient
from desktop.components import dataset_text as text
from desktop.components.job_handle import JobHandle
from desktop.components.prepare_settings import PrepareSettings
from desktop.components.project_state import ProjectState
from desktop.components.settings import AppSettings
from desktop.ui import file_dialogs
from desktop.ui.dataset_editor_link import DatasetEditorLink
from desktop.ui.elided_label import QtElidedLabel
from desktop.ui.health_report import QtHealthReport
from desktop.ui.job_widgets import accept_local_drag, dropped_paths, show_fraction
from desktop.ui.project_controller import ProjectController
from desktop.ui.scrolling import vertical_scroll
from desktop.ui.slices_table import QtSlicesTable

AUDIO_FILTER = "Audio (*.wav *.flac *.mp3 *.ogg *.m4a *.aac *.opus *.wma *.aiff *.aif);;All (*)"


def _spin(kind: type, lo: float, hi: float, value: float, suffix: str, step: float = 1):
    box = kind()
    box.setRange(lo, hi)
    box.setSingleStep(step)
    box.setValue(value)
    box.setSuffix(suffix)
    return box


class QtPrepareSettings(QGroupBox):
    """The small form whose values become the ``prepare`` job's settings."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Preparation settings", parent)
        self.mode = QComboBox()
        self.mode.addItem("Peak", "peak")
        self.mode.addItem("Loudness (LUFS)", "lufs")
        self.mode.addItem("None", "none")
        self.peak = _spin(QDoubleSpinBox, 0.05, 1.0, 0.9, " × full scale", 0.05)
        self.lufs = _spin(QDoubleSpinBox, -70, -5, -23, " LUFS", 0.5)
        self.silence = _spin(QDoubleSpinBox, -90, -1, -42, " dB", 1)
        self.min_ms = _spin(QSpinBox, 300, 60_000, 1500, " ms", 100)
        self.chunk = _spin(QDoubleSpinBox, 0, 30, 3.7, " s", 0.1)
        self.chunk.setSpecialValueText("no chunking")
        self.mode.currentIndexChanged.connect(self._on_mode_changed)
        form = QFormLayout(self)
        form.addRow("Normalise to:", self.mode)
        form.addRow("Peak target:", self.peak)
        form.addRow("Loudness target:", self.lufs)
        form.addRow("Silence threshold:", self.silence)
        form.addRow("Drop slices shorter than:", self.min_ms)
        form.addRow("Chunk length:", self.chunk)
        self.set_values(PrepareSettings())

    def _on_mode_changed(self) -> None:
        mode = self.mode.currentData()
        self.lufs.setEnabled(mode == "lufs")
        self.peak.setEnabled(mode == "peak")

    def set_values(self, s: PrepareSettings) -> None:
        index = self.mode.findData(s.normalize)
        self.mode.setCurrentIndex(max(0, index))
        self.peak.setValue(s.peak_target)
        self.lufs.setValue(s.lufs_target)
        self.silence.setValue(s.threshold_db)
        self.min_ms.setValue(int(s.min_length_ms))
        self.chunk.setValue(s.chunk_seconds)
        self._on_mode_changed()

    def values(self) -> PrepareSettings:
        return PrepareSettings(normalize=str(self.mode.currentData()),
                               peak_target=round(self.peak.value(), 3),
                               lufs_target=self.lufs.value(), threshold_db=self.silence.value(),
                               min_length_ms=self.min_ms.value(),
                               chunk_seconds=round(self.chunk.value(), 2))


class QtDatasetPage(QWidget):
    sig_source_activated = Signal(dict)  # a source row of project.open, on double-click
    sig_message_changed = Signal(str)

    def __init__(self, client: BackendClient, controller: ProjectController,
                 settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client, self.controller, self.settings = client, controller, settings
        self.editor_link: DatasetEditorLink | None = None
        self.job: JobHandle | None = None  # the import or prepare job this page follows
        self._shown_path: str | None = None
        self.setAcceptDrops(True)
        self._build()
        controller.project_changed.connect(self.set_project)
        self.set_project(controller.state)

    # layout ------------------------------------------------------------------------
    def _build(self) -> None:
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setVisible(False)
        self.message = QtElidedLabel(text.DROP_HINT, lines=2)
        self.prepare_settings = QtPrepareSettings()
        self.sources_table = self._new_sources_table()
        self.health_report = QtHealthReport()
        upper = QSplitter(Qt.Orientation.Horizontal)
        upper.setObjectName("dataset_upper")
        upper.setChildrenCollapsible(False)
        upper.addWidget(self._left_column())
        upper.addWidget(self.health_report)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("dataset_splitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(upper)
        self.splitter.addWidget(self._editor_pane())
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(self._toolbar())
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addWidget(self.splitter, 1)

    def _toolbar(self) -> QHBoxLayout:
        self.project_label = QtElidedLabel(elide=Qt.TextElideMode.ElideMiddle)
        self.add_files_btn = QPushButton("Add files…")
        self.add_folder_btn = QPushButton("Add folder…")
        self.prepare_btn = QPushButton("Prepare")
        self.prepare_btn.setToolTip("Normalise, slice and check every source; writes the "
                                    "health report")
        self.add_files_btn.clicked.connect(self._on_add_files_clicked)
        self.add_folder_btn.clicked.connect(self._on_add_folder_clicked)
        self.prepare_btn.clicked.connect(self.start_prepare)
        bar = QHBoxLayout()
        bar.addWidget(self.project_label, 1)
        for w in (self.add_files_btn, self.add_folder_btn, self.prepare_btn):
            bar.addWidget(w)
        return bar

    def _new_sources_table(self) -> QTableWidget:
        table = QTableWidget(0, len(text.SOURCE_COLUMNS))
        table.setHorizontalHeaderLabels(list(text.SOURCE_COLUMNS))
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        table.cellDoubleClicked.connect(self._on_sources_table_double_clicked)
        return table

    def _editor_pane(self) -> QWidget:
        """The lower pane: a placeholder until ``set_editor`` puts the editor there."""
        self.editor_container = QWidget()
        self.editor_container.setObjectName("editor_container")
        self._editor_layout = QVBoxLayout(self.editor_container)
        self._editor_layout.setContentsMargins(0, 0, 0, 0)
        self.editor_placeholder = QLabel("Double-click a source or a slice to open it in the "
                                         "waveform editor.")
        self.editor_placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._editor_layout.addWidget(self.editor_placeholder)
        return self.editor_container

    def _left_column(self) -> QWidget:
        """The preparation settings (scrolling when the pane is short) over the tables."""
        settings = vertical_scroll(self.prepare_settings, min_height=70, frame=False,
                                   max_height=self.prepare_settings.sizeHint().height())
        self.slices_table = QtSlicesTable(self.client)
        self.tables = QTabWidget()
        self.tables.addTab(self.sources_table, "Sources")
        self.tables.addTab(self.slices_table, "Slices")
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(settings)
        left_layout.addWidget(self.tables, 1)
        return left

    def set_editor(self, widget: QWidget) -> None:
        """Embed the waveform editor in the lower pane (replaces the placeholder)."""
        self.editor_placeholder.setParent(None)
        while self._editor_layout.count():
            item = self._editor_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().setParent(None)
        self._editor_layout.addWidget(widget)

    def attach_editor(self, editor: Any) -> None:
        """Embed ``editor`` (a QtWaveformEditor) and open sources and slices in it."""
        self.set_editor(editor)
        controller = self.controller
        link = DatasetEditorLink(editor, project=lambda: controller.state,
                                 request=self.client.request, say=self.say)
        self.sig_source_activated.connect(link.open_source)
        self.slices_table.sig_slice_activated.connect(link.open_slice)
        controller.project_changed.connect(link.project_changed)
        self.client.jobs.subscribe(link.job_changed)  # every job, whoever started it
        self.editor_link = link

    # project -----------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.job is not None and self.job.active

    def _update_buttons(self) -> None:
        has = self.controller.state is not None
        for w in (self.add_files_btn, self.add_folder_btn, self.prepare_btn):
            w.setEnabled(has and not self.busy)

    def set_project(self, state: ProjectState | None) -> None:
        """Show a project state (each ``project_changed``: one ``project.slices``)."""
        self.slices_table.load(state.path if state is not None else None)
        self._update_buttons()
        self.project_label.setText(text.project_label(state))
        if state is not None and (self._shown_path != state.path):
            self.prepare_settings.set_values(
                PrepareSettings.from_project(state.project.get("prepare")))
        self._shown_path = state.path if state else None
        sources = state.sources if state else []
        self.sources_table.setRowCount(len(sources))
        for row, src in enumerate(sources):
            self._fill_source_row(row, src)
        self.health_report.set_report(state.report if state else None,
                                      state.report_error if state else None)

    def _fill_source_row(self, row: int, src: dict) -> None:
        shown = text.source_row(src)
        for col, cell in enumerate(shown.cells):
            item = QTableWidgetItem(cell)
            item.setToolTip(shown.tooltip(col))
            if col == 0:
                item.setData(Qt.ItemDataRole.UserRole, src)
            self.sources_table.setItem(row, col, item)

    def _on_sources_table_double_clicked(self, row: int, _col: int) -> None:
        item = self.sources_table.item(row, 0)
        src = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if isinstance(src, dict):
            self.sig_source_activated.emit(src)

    # drag and drop -----------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        accept_local_drag(event)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt override)
        paths = dropped_paths(event)
        if paths:
            self.import_paths(paths)

    def _on_add_files_clicked(self) -> None:
        files = file_dialogs.open_files(self, self.settings, "import", "Add recordings",
                                        AUDIO_FILTER)
        if files:
            self.import_paths(files)

    def _on_add_folder_clicked(self) -> None:
        folder = file_dialogs.open_folder(self, self.settings, "import",
                                          "Add a folder of recordings", remember_parent=True)
        if folder:
            self.import_paths([folder])

    # jobs ----------------------------------------------------------------------------
    def say(self, message: str) -> None:
        self.message.setText(message)
        self.sig_message_changed.emit(message)

    def import_paths(self, paths: list[str]) -> JobHandle | None:
        """Start the ``import`` job for files/folders; returns its handle."""
        return self._start_job("import", {"inputs": list(paths)},
                               text.IMPORTING.format(count=len(paths)))

    def start_prepare(self) -> JobHandle | None:
        settings = self.prepare_settings.values()
        problems = settings.validate()
        if problems:
            self.say(text.cannot_prepare_text(problems))
            return None
        state = self.controller.state
        args = settings.to_job_args(state.path) if state else {}
        return self._start_job("prepare", args, text.PREPARING)

    def _start_job(self, kind: str, args: dict, message: str) -> JobHandle | None:
        state = self.controller.state
        if state is None:
            self.say(text.NO_PROJECT)
            return None
        if self.job is not None and self.job.active:
            self.say(text.busy_text(self.job.kind))
            return None
        self.job = self.client.start_job(kind, {"project": state.path, **args})
        self.job.subscribe(self._on_job_changed)
        self._update_buttons()
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.say(message)
        return self.job

    def _on_job_changed(self, job: JobHandle, event: str, _data: dict) -> None:
        if job is not self.job:
            return
        if job.finished:
            self._on_job_finished(job)
        elif event == "job.progress":
            self._show_progress(job)

    def _show_progress(self, job: JobHandle) -> None:
        show_fraction(self.progress, job.fraction)
        self.progress.setFormat(text.progress_format(job))

    def _on_job_finished(self, job: JobHandle) -> None:
        self.progress.setVisible(False)
        self._update_buttons()
        self.say(text.finished_text(job))
        if not job.refused:
            self.controller.reload()  # project_changed then shows the new state (once)
