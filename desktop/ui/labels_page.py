"""QtLabelsPage: transcribe the clips and proofread what they say (sidebar key ``label``).

Left: Undo / Redo / Next flagged, the search and replace bar, the proofreading table
(``QtLabelsTable`` over the Qt-free ``LabelsTable``), the summary and the status line (what
is being saved, what the last change did, what failed). Right, in a column that scrolls:
the transcription panel (``QtTranscribePanel``, desktop/ui/labels_transcribe.py), Import… /
Export… (the ``labels`` job), the filters, and how the current row will be read
(``text.preview``).

Every change is sent at once (``labels.apply``); there is nothing to save. The labels are
asked again (``labels.get``) when the project changes, when a transcription or an import
changed them, and after a prepare (clips appear, spans get their clips).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.components.backend_logic import READY
from desktop.components.job_handle import JobHandle
from desktop.components.labels_rows import summary_text
from desktop.components.labels_table import LabelsTable
from desktop.components.project_state import ProjectState
from desktop.components.settings import AppSettings
from desktop.ui import file_dialogs
from desktop.ui.elided_label import QtElidedLabel
from desktop.ui.labels_bars import (
    ERROR_STYLE,
    QtLabelsFilters,
    QtReadingPreview,
    QtReplaceBar,
    QtTextCheck,
)
from desktop.ui.labels_table import QtLabelsTable
from desktop.ui.project_controller import ProjectController
from desktop.ui.scrolling import vertical_scroll

try:  # the desktop-tools part; without it the page proofreads only
    from desktop.ui.labels_transcribe import QtTranscribePanel
except ImportError:  # pragma: no cover - depends on the build
    QtTranscribePanel = None

REPAINT_MS = 100  # the summary and status repaint when the table's revision moved
FORMATS = {".list": "list", ".json": "json", ".txt": "vits"}
EXPORT_FILTER = ("GPT-SoVITS list (*.list);;VITS filelist (*.txt);;JSON (*.json);;All (*)")
NO_TRANSCRIBE = ("Transcription is not part of this build; import a transcript "
                 "(Import…) or type the text of each clip.")
NO_PROJECT = "Open a project (Project page) to see its clips and what they say."


def format_of(path: str) -> str:
    """The ``labels`` job's format for a file name (``.list``, ``.json``, else VITS)."""
    return FORMATS.get(Path(path).suffix.lower(), "vits")


def labels_job_text(handle: JobHandle) -> tuple[str, bool]:
    """What an import or export did, in words (and whether it is an error)."""
    action = handle.args.get("action")
    if handle.state != "ok":
        what = "Import" if action == "import" else "Export"
        return (f"{what} cancelled." if handle.state == "cancelled" else
                f"{what} failed: {handle.error_message}", handle.state != "cancelled")
    r = handle.result
    if action == "export":
        skipped = [s for s in r.get("skipped") or [] if isinstance(s, dict)]
        text = f"Exported {r.get('rows', 0)} row(s) to {r.get('out', '?')}."
        if skipped:
            reasons: dict[str, int] = {}
            for s in skipped:
                reasons[str(s.get("reason") or "?")] = reasons.get(str(s.get("reason")), 0) + 1
            words = ", ".join(f"{why} ({n})" if len(reasons) > 1 else why
                              for why, n in reasons.items())
            text += f" {len(skipped)} row(s) left out: {words}."
        return text, False
    unmatched = [u for u in r.get("unmatched") or [] if isinstance(u, dict)]
    text = f"Imported {handle.args.get('file', '')}: {r.get('matched', 0)} line(s) " \
           f"matched a clip, {r.get('updated', 0)} row(s) updated."
    if unmatched:
        lines = "; ".join(f"line {u.get('line')} ({u.get('path')}): {u.get('reason')}"
                          for u in unmatched[:10])
        more = f"; …and {len(unmatched) - 10} more" if len(unmatched) > 10 else ""
        text += f" {len(unmatched)} line(s) did not match: {lines}{more}."
    return text, False


class QtLabelsPage(QWidget):
    def __init__(self, client: Any, controller: ProjectController,
                 settings: AppSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client, self.controller, self.app_settings = client, controller, settings
        self.table = LabelsTable(lambda cmd, args, ok, err: client.request(cmd, args, ok, err))
        self.table.set_backend_ready(client.state == READY)
        self.job: JobHandle | None = None  # the import/export this page follows
        self._job_text: tuple[str, bool] | None = None
        self._painted = -1
        self._changed_seen = False  # a labels.changed came while the import ran
        self._build()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.repaint_if_changed)
        self._timer.start(REPAINT_MS)
        client.state_changed.connect(self._on_backend_state)
        client.jobs.subscribe(self._on_any_job)
        client.sig_event.connect(self._on_event)
        controller.project_changed.connect(self.set_project)
        self.set_project(controller.state)

    # construction -------------------------------------------------------------------------
    def _build(self) -> None:
        self.view = QtLabelsTable(self.table, self.client)
        self.view.sig_message.connect(self._on_view_message)
        self.view.sig_current.connect(self._on_current)
        self.replace_bar = QtReplaceBar()
        self.replace_bar.sig_replace.connect(
            lambda f, r, regex, case: self.table.replace(f, r, regex=regex, case=case))
        self.summary = QtElidedLabel()
        self.summary.setObjectName("labels_summary")
        self.status = QtElidedLabel(lines=2)
        self.status.setObjectName("labels_status")
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(self._build_buttons())
        column.addWidget(self.replace_bar)
        column.addWidget(self.view, 1)
        column.addWidget(self.summary)
        column.addWidget(self.status)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("labels_splitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(left)
        self.splitter.addWidget(vertical_scroll(self._build_side(), frame=False))
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([700, 300])  # a saved state (MainWindow) replaces this
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter, 1)

    def _build_buttons(self) -> QHBoxLayout:
        self.undo_btn, self.redo_btn = QPushButton("Undo"), QPushButton("Redo")
        self.next_btn = QPushButton("Next flagged")
        self.next_btn.setToolTip("Go to the next flagged row (N)")
        self.import_btn, self.export_btn = QPushButton("Import…"), QPushButton("Export…")
        self.import_btn.setToolTip("Read the text of the clips from a GPT-SoVITS .list, a "
                                   "VITS filelist or a JSON file (matched by clip path)")
        self.export_btn.setToolTip("Write a GPT-SoVITS .list, a VITS filelist (.txt) or "
                                   "JSON (.json)")
        self.undo_btn.clicked.connect(self.view.undo)
        self.redo_btn.clicked.connect(self.view.redo)
        self.next_btn.clicked.connect(self.table.next_flagged)
        self.import_btn.clicked.connect(lambda: self.import_labels())
        self.export_btn.clicked.connect(lambda: self.export_labels())
        row = QHBoxLayout()
        for b in (self.undo_btn, self.redo_btn, self.next_btn):
            row.addWidget(b)
        row.addStretch(1)
        return row

    def _build_side(self) -> QWidget:
        side = QWidget()
        layout = QVBoxLayout(side)
        layout.setContentsMargins(0, 0, 0, 0)
        if QtTranscribePanel is not None:
            self.transcribe = QtTranscribePanel(self.client, self.controller, self.app_settings)
            self.transcribe.sig_labels_changed.connect(self.table.reload)
            layout.addWidget(self.transcribe)
        else:
            self.transcribe = None
            note = QLabel(NO_TRANSCRIBE)
            note.setWordWrap(True)
            layout.addWidget(note)
        self.filters = QtLabelsFilters()
        self.filters.sig_changed.connect(self.table.set_filters)
        self.preview = QtReadingPreview(self.client)
        files = QHBoxLayout()
        files.addWidget(self.import_btn)
        files.addWidget(self.export_btn)
        layout.addLayout(files)
        layout.addWidget(self.filters)
        layout.addWidget(self.preview)
        self.text_check = QtTextCheck(self.client)
        self.text_check.sig_goto.connect(self._on_text_check_goto)
        self.text_check.where = lambda: (self.table.current, list(self.table.view))
        layout.addWidget(self.text_check)
        layout.addStretch(1)
        return side

    # project and backend ------------------------------------------------------------------
    def set_project(self, state: ProjectState | None) -> None:
        path = state.path if state is not None else None
        self.text_check.set_project(path)
        if path != self.table.project:
            self.table.load(path)
            self._job_text = None
        elif path is not None:
            self.table.reload()  # opened again (after a job): the clips may have changed

    def _on_backend_state(self, state: str) -> None:
        self.table.set_backend_ready(state == READY)

    def _on_any_job(self, job: JobHandle, event: str, _data: dict) -> None:
        """A prepare gives spans their clips; a transcription (when there is no panel to
        say so) changed the texts."""
        kinds = ("prepare",) if self.transcribe is not None else ("prepare", "transcribe")
        if event == "job.finished" and job.kind in kinds and job.state == "ok" \
                and self.table.project is not None:
            self.table.reload()

    def _on_event(self, ev: Any) -> None:
        """``labels.changed`` of this project (a transcription or an import saved rows):
        read again, unless the transcription panel does (it says so by its signal)."""
        project = ev.data.get("project") if isinstance(ev.data, dict) else None
        if ev.event != "labels.changed" or not isinstance(project, str) or \
                self.table.project is None or os.path.normcase(os.path.abspath(project)) != \
                os.path.normcase(os.path.abspath(self.table.project)):
            return
        self._changed_seen = True
        if self.transcribe is None:
            self.table.reload()

    # import / export ----------------------------------------------------------------------
    def pick_export_path(self) -> str:
        """Where to export ("" when cancelled). Tests replace this."""
        name = f"{Path(self.table.project or 'labels').name}.list"
        return file_dialogs.save_file(self, self.app_settings, "labels_export",
                                      "Export the labels", name, EXPORT_FILTER)

    def pick_import_path(self) -> str:
        return file_dialogs.open_file(self, self.app_settings, "labels_import",
                                      "Import labels", EXPORT_FILTER)

    def export_labels(self, path: str | None = None) -> JobHandle | None:
        path = path or (self.pick_export_path() if self._can_run() else "")
        if not path:
            return None
        return self._run({"project": self.table.project, "action": "export",
                          "format": format_of(path), "out": path})

    def import_labels(self, path: str | None = None) -> JobHandle | None:
        path = path or (self.pick_import_path() if self._can_run() else "")
        if not path:
            return None
        return self._run({"project": self.table.project, "action": "import",
                          "format": format_of(path), "file": path})

    def _can_run(self) -> bool:
        return self.table.project is not None and (self.job is None or self.job.finished)

    def _run(self, args: dict[str, Any]) -> JobHandle | None:
        if not self._can_run():
            return None
        self.table.commit_edit()  # what is typed is in the labels before they are read
        self._changed_seen = False
        self.job = job = self.client.start_job("labels", args)
        job.subscribe(self._on_job)
        self._job_text = (("Exporting to " if args["action"] == "export" else "Importing ")
                          + str(args.get("out") or args.get("file")) + "…", False)
        self._painted = -1
        return job

    def _on_job(self, job: JobHandle, _event: str, _data: dict) -> None:
        if job is not self.job or not job.finished:
            return
        self._job_text = labels_job_text(job)
        if job.args.get("action") == "import" and job.state == "ok" and not self._changed_seen:
            self.table.reload()  # no labels.changed came (it would have read them again)
        self._painted = -1
        self.repaint_if_changed()

    # view ---------------------------------------------------------------------------------
    def _on_current(self, row: dict | None) -> None:
        self.preview.show_row(row)

    def _on_text_check_goto(self, rid: str) -> None:
        self.table.set_current(rid)
        self.view.setFocus()

    def _on_view_message(self, text: str, error: bool) -> None:
        self._job_text = (text, error) if text else None
        self._painted = -1

    def repaint_if_changed(self) -> bool:
        """Summary, status and buttons, when the table changed since the last paint."""
        t = self.table
        t.retry_if_due()
        if t.revision == self._painted:
            return False
        self._painted = t.revision
        if t.project is None:
            self.summary.setText(NO_PROJECT)
        else:
            self.summary.setText(summary_text(t.rows.values(), len(t.view)) if t.loaded
                                 else "Reading the labels…")
        text, error = t.busy_text(), False
        if not text:
            text, error = (t.error, True) if t.error else self._job_text or (t.status_text(),
                                                                              False)
        self.status.setStyleSheet(ERROR_STYLE if error else "")
        self.status.setText(text)
        self.filters.set_choices(sorted({str(r["language"]) for r in t.rows.values()
                                         if r.get("language")} | set(t.info.languages)),
                                 sorted({str(r["speaker"]) for r in t.rows.values()
                                         if r.get("speaker")} | set(t.info.speakers)))
        self._show_buttons()
        self.preview.show_row(t.current_row)
        return True

    def _show_buttons(self) -> None:
        t = self.table
        self.undo_btn.setEnabled(t.undo.can_undo or t.pending > 0)
        self.undo_btn.setToolTip(f"Undo {t.undo.undo_label} (Ctrl+Z)" if t.undo.undo_label
                                 else "Undo (Ctrl+Z)")
        self.redo_btn.setEnabled(t.undo.can_redo)
        self.redo_btn.setToolTip(f"Redo {t.undo.redo_label} (Ctrl+Shift+Z)"
                                 if t.undo.redo_label else "Redo (Ctrl+Shift+Z)")
        runnable = self._can_run()
        self.import_btn.setEnabled(runnable)
        self.export_btn.setEnabled(runnable and bool(t.rows))
        self.next_btn.setEnabled(any(t.rows[rid].get("flag") for rid in t.view))
