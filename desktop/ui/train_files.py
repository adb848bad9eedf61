"""QtTrainFiles: the Train page's samples (with Play) and checkpoints tables.

Play sends ``audio.play`` of the sample's file (the backend plays it), Stop playback
``audio.stop``; the ``audio.finished`` event clears the "Playing…" line. A voice sample
is a clip converted with the run's weights, a text-to-speech sample the run's test
sentence spoken with them.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backend.protocol import Event
from desktop.backend_client import BackendClient
from desktop.components.train_runs import Checkpoint, Sample
from desktop.ui.elided_label import QtElidedLabel


def _table(headers: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.horizontalHeader().setSectionResizeMode(len(headers) - 1,
                                                  QHeaderView.ResizeMode.Stretch)
    return table


def _size_text(size: int | None) -> str:
    return "—" if size is None else f"{size / 2**20:.1f} MB"


def _set_row(table: QTableWidget, row: int, values: tuple[str, ...]) -> None:
    """The last column is a path: its file name shown, the full path as tooltip."""
    for col, text in enumerate(values):
        item = QTableWidgetItem(Path(text).name if col == len(values) - 1 else text)
        item.setToolTip(text)
        table.setItem(row, col, item)


class QtTrainFiles(QWidget):
    def __init__(self, client: BackendClient, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.samples: list[Sample] = []
        self.samples_table = _table(("Step", "Epoch", "", "File"))
        self.checkpoints_table = _table(("Step", "Epoch", "Saved", "Size", "File"))
        self.audio_label = QtElidedLabel()
        self.audio_stop_btn = QPushButton("Stop playback")
        self.audio_stop_btn.clicked.connect(self.stop_audio)
        self.samples_title = QLabel()
        self.samples_title.setWordWrap(True)
        self.set_samples_title("rendered at each save")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.samples_title)
        layout.addWidget(self.samples_table, 1)
        audio_row = QHBoxLayout()
        audio_row.addWidget(self.audio_label, 1)
        audio_row.addWidget(self.audio_stop_btn)
        layout.addLayout(audio_row)
        layout.addWidget(QLabel("<b>Checkpoints</b>"))
        layout.addWidget(self.checkpoints_table, 1)
        client.sig_event.connect(self._on_client_event)

    def set_samples_title(self, what: str) -> None:
        self.samples_title.setText(f"<b>Samples</b> ({what})")

    def set_items(self, samples: list[Sample], checkpoints: list[Checkpoint]) -> None:
        self.samples = list(samples)
        self.samples_table.setRowCount(len(samples))
        for row, s in enumerate(samples):
            _set_row(self.samples_table, row, (str(s.step), str(s.epoch), "", s.path))
            play = QPushButton("Play")
            play.clicked.connect(lambda _=False, r=row: self.play_sample(r))
            self.samples_table.setCellWidget(row, 2, play)
        self.checkpoints_table.setRowCount(len(checkpoints))
        for row, c in enumerate(checkpoints):
            saved = (time.strftime("%Y-%m-%d %H:%M", time.localtime(c.saved_at))
                     if c.saved_at else "—")
            _set_row(self.checkpoints_table, row,
                     (str(c.step), str(c.epoch), saved, _size_text(c.size), c.path))

    # audio ---------------------------------------------------------------------------------
    def play_sample(self, row: int) -> str | None:
        if not 0 <= row < len(self.samples):
            return None
        sample = self.samples[row]
        self.audio_label.setText(f"Playing the sample of step {sample.step}…")
        return self.client.request("audio.play", {"path": sample.path, "start": 0, "end": None},
                                   on_error=lambda e: self.audio_label.setText(
                                       f"Could not play {sample.path}: {e.message}"))

    def stop_audio(self) -> str:
        self.audio_label.setText("")
        return self.client.request("audio.stop", {})

    def _on_client_event(self, ev: Event) -> None:
        if ev.event == "audio.finished":
            self.audio_label.setText("")
