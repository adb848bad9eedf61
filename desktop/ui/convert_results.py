"""QtConvertResults: one row per converted file, the waveforms, A/B playback and Save as.

The rows are the session's ``FileResult``s (errors in words). Selecting one asks the
backend for both waveforms (``audio.analyze`` into ``cache_dir``); playback goes through
the backend (``audio.play`` at a position, ``audio.stop``) and follows its
``audio.position`` events, so "A/B" starts the other side where this one is.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backend.protocol import Event
from desktop.components.convert_session import (
    ORIGINAL,
    RESULT,
    ABPlayback,
    ConvertSession,
    FileResult,
    fmt_seconds,
    save_copy,
)
from desktop.components.settings import AppSettings
from desktop.components.waveform_data import WaveformData
from desktop.ui import file_dialogs
from desktop.ui.convert_waveforms import QtConvertWaveforms
from desktop.ui.elided_label import QtElidedLabel

COLUMNS = ("File", "Length", "Result")
BUTTONS = (("original", "Play original", "Play the recording as it was."),
           ("result", "Play result", "Play the converted file."),
           ("ab", "A/B", "Switch between the original and the result at the same moment."),
           ("stop", "Stop", "Stop playback."),
           ("save", "Save as…", "Save a copy of the converted file where you choose."))
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "timbre-studio" / "waveforms"
ERROR_COLOUR = "#b00020"
ERROR_STYLE = f"color: {ERROR_COLOUR};"


class QtConvertResults(QWidget):
    sig_message = Signal(str)

    def __init__(self, client: Any, session: ConvertSession,
                 settings: AppSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client, self.session, self.app_settings = client, session, settings
        self.ab = ABPlayback()
        self.cache_dir = str(DEFAULT_CACHE)
        self.waves_for: dict[str, WaveformData] = {}  # path -> its analysis (this session)
        self._build()
        client.sig_event.connect(self._on_client_event)

    def _build(self) -> None:
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("convert_results")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(0, 200)
        self.table.setMinimumHeight(90)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.waves = QtConvertWaveforms()
        self.buttons: dict[str, QPushButton] = {}
        slots = {"original": lambda: self.play(ORIGINAL), "result": lambda: self.play(RESULT),
                 "ab": lambda: self.toggle(), "stop": lambda: self.stop(),
                 "save": lambda: self.save_as()}
        row = QGridLayout()  # three and two: narrow enough beside the settings at 1024 px
        for n, (key, text, tip) in enumerate(BUTTONS):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(slots[key])
            self.buttons[key] = button
            row.addWidget(button, n // 3, n % 3)
        row.setColumnStretch(3, 1)
        self.status = QtElidedLabel(lines=2)
        self.status.setObjectName("convert_play_status")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 2)
        layout.addWidget(self.waves, 3)
        layout.addLayout(row)
        layout.addWidget(self.status)
        self._update_buttons()

    # rows -------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Show the session's results; the selected row follows ``session.selected``."""
        results = self.session.results
        self.table.blockSignals(True)
        self.table.setRowCount(len(results))
        for r, res in enumerate(results):
            cells = (res.name, fmt_seconds(res.seconds) if res.seconds else "",
                     res.status_text())
            tips = (res.input, "", res.error or res.output or "")
            for c, (text, tip) in enumerate(zip(cells, tips, strict=True)):
                item = QTableWidgetItem(text)
                item.setToolTip(tip or text)
                if res.error:
                    item.setForeground(QBrush(QColor(ERROR_COLOUR)))
                self.table.setItem(r, c, item)
        self.table.clearSelection()
        if self.session.selected is not None and self.session.selected < len(results):
            self.table.selectRow(self.session.selected)
        self.table.blockSignals(False)
        self._show_current()

    def _on_selection(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedItems()})
        if rows and rows[0] != self.session.selected:
            self.session.selected = rows[0]
            self._show_current()

    def select(self, row: int) -> None:
        self.session.selected = row
        self.refresh()

    def _show_current(self) -> None:
        current = self.session.current()
        if current != self.ab.result:
            if self.ab.playing:
                self.stop()
            self.ab.set_result(current)
            self.waves.clear_waves()
            self._analyze(current)
        self._update_buttons()

    def _analyze(self, res: FileResult | None) -> None:
        if res is None:
            self.status.setText("")
            return
        self.waves.set_title(ORIGINAL, f"Original: {Path(res.input).name}")
        self.waves.set_title(RESULT, f"Result: {Path(res.output).name}" if res.output
                             else "Result: none (the conversion failed)")
        self.status.setText(f"{res.name}: failed: {res.error}" if res.error else "")
        for side, path in ((ORIGINAL, res.input), (RESULT, res.output)):
            if path:
                self._ask_wave(side, path)

    def _ask_wave(self, side: str, path: str) -> None:
        if path in self.waves_for:
            self._draw(side, path, self.waves_for[path])
            return

        def done(info: dict) -> None:
            try:
                data = WaveformData.load(info["data"])
            except (OSError, KeyError, ValueError) as exc:
                self.status.setText(f"Could not read the waveform of {path}: {exc}")
                return
            self.ab.durations[path] = float(info.get("duration") or data.duration)
            self.waves_for[path] = data
            self._draw(side, path, data)

        self.client.request("audio.analyze", {"path": path, "cache_dir": self.cache_dir},
                            done, lambda err: self.status.setText(
                                f"Could not draw {Path(path).name}: {err.message}"))

    def _draw(self, side: str, path: str, data: WaveformData) -> None:
        if self.ab.path(side) == path:  # still the selected result
            self.waves.show_wave(side, data)

    # playback ---------------------------------------------------------------------------------
    def play(self, side: str, t: float | None = None) -> str | None:
        args = self.ab.play(side, t)
        return self._send_play(args) if args is not None else None

    def toggle(self) -> str | None:
        """A/B: the other side at the position playback has reached."""
        args = self.ab.toggle()
        return self._send_play(args) if args is not None else None

    def _send_play(self, args: dict) -> str:
        side = self.ab.side

        def failed(err: Any) -> None:
            self.ab.failed()
            self._say_error(f"Could not play {Path(args['path']).name}: {err.message}")
            self._update_buttons()

        def started(answer: dict) -> None:
            self.ab.started(answer)
            self.status.setStyleSheet("")
            self.status.setText(f"Playing the {side} from {fmt_seconds(args['start'])}")
            self._update_buttons()

        return self.client.request("audio.play", args, started, failed)

    def stop(self) -> str:
        self.ab.playing = False
        self._update_buttons()
        return self.client.request("audio.stop", {})

    def _on_client_event(self, ev: Event) -> None:
        if ev.event not in ("audio.position", "audio.finished"):
            return
        finished = ev.event == "audio.finished"
        if not self.ab.on_position(ev.data, finished):
            return
        if self.ab.playing:
            self.waves.show_playhead(self.ab.position, self.ab.side)
            self.status.setText(f"Playing the {self.ab.side}: {fmt_seconds(self.ab.position)}")
        elif finished:
            self.waves.show_playhead(None)
            self.status.setText("")
            self._update_buttons()

    # save ---------------------------------------------------------------------------------------
    def pick_save_path(self, name: str) -> str:
        """Where to save a copy ("" if cancelled). Tests replace this."""
        return file_dialogs.save_file(self, self.app_settings, "convert_save",
                                      "Save the converted file", name, "WAV audio (*.wav)")

    def save_as(self, path: str | None = None) -> str | None:
        res = self.session.current()
        if res is None or not res.ok or res.output is None:
            return None
        path = path or self.pick_save_path(Path(res.output).name)
        if not path:
            return None
        try:
            save_copy(res.output, path)
        except OSError as exc:
            self._say_error(f"Could not save {path}: {exc.strerror or exc}")
            return None
        self.status.setStyleSheet("")
        self.status.setText(f"Saved a copy as {path}")
        return path

    # view ---------------------------------------------------------------------------------------
    def _say_error(self, text: str) -> None:
        self.status.setStyleSheet(ERROR_STYLE)
        self.status.setText(text)

    def _update_buttons(self) -> None:
        res = self.ab.result
        enabled = {
            "original": res is not None,
            "result": res is not None and res.ok,
            "ab": res is not None and res.ok,
            "stop": self.ab.playing or self.ab.waiting,
            "save": res is not None and res.ok,
        }
        for key, on in enabled.items():
            self.buttons[key].setEnabled(on)
