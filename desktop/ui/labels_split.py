"""QtSplitDialog: choose where to split one row of the Labels table, on its waveform.

``QtSplitDialog(row, client, parent)``: ``row`` has ``source_path``, ``start``, ``end`` (seconds
of the recording), ``text`` and ``words`` (``[[word, start, end, prob], ...]`` or None). The
recording is analysed by the backend (``audio.analyze``, the waveform editor's .npz) and the
span is drawn with the editor's plots (``QtEditorPlots``: waveform over spectrogram, the
time axis in seconds of the recording). A click or a drag puts the split point (kept
strictly inside the span, ``split_text.clamp_point``); Left/Right move it by 10 ms
(with Shift 100 ms). The text is cut at the word nearest the point (``split_text.text_at``)
and shown as two halves: "◀ word" / "word ▶" move a word across, and the halves can be
edited as long as they still read the row's text word for word (else OK waits and says
why: the words themselves are edited in the table). Space plays the left side, then the
right one (``audio.play`` of the source from ``start`` to ``end``; the playhead follows
``audio.position``); Stop stops. ``result()`` after OK: ``(at, text_at)``: seconds in the
recording and the character index where the right half's text starts; None otherwise.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.components.dataset_text import fmt_duration
from desktop.components.split_text import (
    can_split,
    clamp_point,
    halves,
    index_of_halves,
    move_word,
    text_at,
)
from desktop.components.waveform_data import WaveformData
from desktop.ui.convert_results import DEFAULT_CACHE
from desktop.ui.elided_label import QtElidedLabel
from desktop.ui.waveform_plots import QtEditorPlots

REPAINT_MS = 50
STEP_S, BIG_STEP_S = 0.01, 0.1
GAP_MS = 250  # the pause between the two sides when Space plays both
ERROR_STYLE = "color: #b00020;"
MIN_WIDTH = 480
WORD_COLOUR = (230, 230, 230)
SPLIT_PEN = (255, 220, 0)
TOO_SHORT = "This clip is too short to split."


class QtSplitDialog(QDialog):
    def __init__(self, row: dict, client: Any, parent: QWidget | None = None, *,
                 cache_dir: str | None = None) -> None:
        super().__init__(parent)
        self.row, self.client = row, client
        self.path = str(row["source_path"])
        self.start_t, self.end_t = float(row["start"]), float(row["end"])
        self.text = str(row.get("text") or "")
        self.words = row.get("words") if isinstance(row.get("words"), list) else None
        self.cache_dir = cache_dir or str(DEFAULT_CACHE)
        self.data: WaveformData | None = None
        self.at = clamp_point((self.start_t + self.end_t) / 2, self.start_t, self.end_t)
        self.text_index = 0
        self._play_id: Any = None
        self._queue: list[tuple[float, float]] = []  # sides still to play
        self._playhead: float | None = None
        self._dirty = False
        self._result: tuple[float, int] | None = None
        self.word_items: list[pg.TextItem] = []  # the row's words drawn over the waveform
        self.setWindowTitle("Split clip")
        self.setMinimumWidth(MIN_WIDTH)
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(REPAINT_MS)
        self._timer.timeout.connect(self._on_tick)
        self._timer.start()
        client.sig_event.connect(self._on_client_event)
        self._listening = True
        self.set_point(self.at)
        self._analyze()

    # construction ------------------------------------------------------------------------
    def _build(self) -> None:
        name = self.row.get("source_name") or self.path
        self.title = QtElidedLabel(f"{name}  {fmt_duration(self.start_t)}–"
                                   f"{fmt_duration(self.end_t)}",
                                   elide=Qt.TextElideMode.ElideMiddle)
        self.plots = QtEditorPlots()
        self.plots.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        for line in self.plots.cursor_lines:  # the split point: the editor's cursor, bolder
            line.setPen(pg.mkPen(SPLIT_PEN, width=2))
        self.plots.setToolTip("Click or drag to choose the split point; Space plays both "
                              "sides, Left/Right move the point.")
        for vb in (self.plots.wave_vb, self.plots.spec_vb):
            vb.sig_clicked.connect(self.set_point)
            vb.sig_dragged.connect(lambda _a, b, _done: self.set_point(b))
        self.plots.wave_vb.sigXRangeChanged.connect(self._mark_dirty)
        self.point_label = QtElidedLabel()
        self.point_label.setObjectName("split_point")
        self.text_error = QtElidedLabel(lines=2)
        self.text_error.setStyleSheet(ERROR_STYLE)
        self.status = QtElidedLabel()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.ok_btn = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_btn.setText("Split")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.plots, 1)
        layout.addLayout(self._play_row())
        layout.addLayout(self._text_grid())
        layout.addWidget(self.text_error)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self._shortcuts()

    def _play_row(self) -> QHBoxLayout:
        self.play_both_btn = QPushButton("Play both")
        self.play_both_btn.setToolTip("Space: the first side, then the second")
        self.play_left_btn = QPushButton("Play first")
        self.play_right_btn = QPushButton("Play second")
        self.stop_btn = QPushButton("Stop")
        self.play_both_btn.clicked.connect(self.play_both)
        self.play_left_btn.clicked.connect(lambda: self.play_sides([self.sides()[0]]))
        self.play_right_btn.clicked.connect(lambda: self.play_sides([self.sides()[1]]))
        self.stop_btn.clicked.connect(self.stop)
        row = QHBoxLayout()
        for b in (self.play_both_btn, self.play_left_btn, self.play_right_btn, self.stop_btn):
            row.addWidget(b)
        row.addWidget(self.point_label, 1)
        return row

    def _text_grid(self) -> QGridLayout:
        self.left_edit, self.right_edit = QLineEdit(), QLineEdit()
        for edit in (self.left_edit, self.right_edit):
            edit.textEdited.connect(self._on_halves_edited)
        self.word_left = QPushButton("◀ word")
        self.word_left.setToolTip("Move the last word of the first half to the second")
        self.word_right = QPushButton("word ▶")
        self.word_right.setToolTip("Move the first word of the second half to the first")
        self.word_left.clicked.connect(lambda: self.move_text(-1))
        self.word_right.clicked.connect(lambda: self.move_text(1))
        grid = QGridLayout()
        grid.addWidget(QLabel("First:"), 0, 0)
        grid.addWidget(self.left_edit, 0, 1)
        grid.addWidget(self.word_left, 0, 2)
        grid.addWidget(QLabel("Second:"), 1, 0)
        grid.addWidget(self.right_edit, 1, 1)
        grid.addWidget(self.word_right, 1, 2)
        grid.setColumnStretch(1, 1)
        return grid

    def _shortcuts(self) -> None:
        context = Qt.ShortcutContext.WidgetWithChildrenShortcut
        keys = {"Space": self.play_both, "Left": lambda: self.nudge(-STEP_S),
                "Right": lambda: self.nudge(STEP_S),
                "Shift+Left": lambda: self.nudge(-BIG_STEP_S),
                "Shift+Right": lambda: self.nudge(BIG_STEP_S)}
        self.shortcuts = []
        for key, slot in keys.items():
            sc = QShortcut(QKeySequence(key), self.plots)
            sc.setContext(context)
            sc.activated.connect(slot)
            self.shortcuts.append(sc)

    # waveform ------------------------------------------------------------------------------
    def _analyze(self) -> None:
        self.status.setText("analysing the recording…")
        self.client.request("audio.analyze", {"path": self.path, "cache_dir": self.cache_dir},
                            on_result=self._on_analyzed, on_error=self._on_error)

    def _on_analyzed(self, info: dict) -> None:
        self.data = WaveformData.load(info["data"])
        end = min(self.end_t, float(info.get("duration") or self.end_t))
        self.plots.show_data(self.data, self.data.duration)
        for vb in (self.plots.wave_vb, self.plots.spec_vb):
            vb.setLimits(xMin=self.start_t, xMax=max(end, self.start_t + 0.01))
        self.plots.set_time_range(self.start_t, end)
        self._draw_words()
        self._dirty = True
        self.status.setText("Click where the clip should be split." if can_split(
            self.start_t, self.end_t) else TOO_SHORT)
        self.plots.setFocus()

    def _draw_words(self) -> None:
        """The row's words over the waveform, each at its start (when the row has them)."""
        for w in self.words or []:
            if not (isinstance(w, list | tuple) and len(w) >= 3
                    and isinstance(w[1], int | float)) or not \
                    self.start_t <= float(w[1]) < self.end_t:
                continue
            item = pg.TextItem(str(w[0]), color=WORD_COLOUR, anchor=(0, 0))
            item.setPos(float(w[1]), 1.0)
            self.plots.wave_plot.addItem(item)
            self.word_items.append(item)

    def _on_error(self, err: Any) -> None:
        self.status.setStyleSheet(ERROR_STYLE)
        self.status.setText(f"error: {getattr(err, 'message', err)}")

    def _mark_dirty(self, *_: Any) -> None:
        self._dirty = True

    def _on_tick(self) -> None:
        if self._dirty and self.data is not None:
            self._dirty = False
            self.plots.draw_envelope(self.data)
        self.plots.show_playhead(self._playhead)

    # the point and the text -----------------------------------------------------------------
    def set_point(self, t: float) -> None:
        """Put the split point at ``t`` (kept inside the span); the text is cut again."""
        self.at = clamp_point(t, self.start_t, self.end_t)
        self.plots.show_marks(None, self.at)
        left, right = self.at - self.start_t, self.end_t - self.at
        self.point_label.setText(f"at {self.at:.3f} s: {left:.2f} s + {right:.2f} s")
        self._set_text_index(text_at(self.text, self.words, self.at, self.start_t,
                                     self.end_t))

    def nudge(self, seconds: float) -> None:
        self.set_point(self.at + seconds)

    def move_text(self, step: int) -> None:
        self._set_text_index(move_word(self.text, self.text_index, step))

    def _set_text_index(self, index: int) -> None:
        self.text_index = index
        left, right = halves(self.text, index)
        self.left_edit.setText(left)
        self.right_edit.setText(right)
        self._show_text_state(True)

    def _on_halves_edited(self, *_: Any) -> None:
        index = index_of_halves(self.text, self.left_edit.text(), self.right_edit.text())
        if index is not None:
            self.text_index = index
        self._show_text_state(index is not None)

    def _show_text_state(self, valid: bool) -> None:
        self.text_error.setText("" if valid else
                                "The two halves must still read the clip's text word for "
                                "word; move words across here, edit them in the table.")
        self.ok_btn.setEnabled(valid and can_split(self.start_t, self.end_t))
        self.word_left.setEnabled(self.text_index > 0 and valid)
        self.word_right.setEnabled(self.text_index < len(self.text.rstrip()) and valid)

    # playback --------------------------------------------------------------------------------
    def sides(self) -> list[tuple[float, float]]:
        return [(self.start_t, self.at), (self.at, self.end_t)]

    def play_both(self) -> None:
        if self._play_id is not None or self._queue:
            self.stop()
            return
        self.play_sides(self.sides())

    def play_sides(self, sides: list[tuple[float, float]]) -> None:
        self._queue = list(sides)
        self._play_next()

    def _play_next(self) -> None:
        if not self._queue:
            return
        start, end = self._queue.pop(0)
        self._play_id = None

        def on_result(res: dict) -> None:
            self._play_id = res.get("play_id", True)
            self._playhead = start

        self.client.request("audio.play", {"path": self.path, "start": start, "end": end},
                            on_result=on_result, on_error=self._on_error)

    def stop(self) -> None:
        self._queue.clear()
        self._play_id = None
        self._playhead = None
        self.client.request("audio.stop", {}, on_error=self._on_error)

    def _on_client_event(self, ev: Any) -> None:
        if ev.event not in ("audio.position", "audio.finished") or self._play_id is None:
            return
        pid = ev.data.get("play_id")
        if pid is not None and self._play_id is not True and pid != self._play_id:
            return  # an earlier playback
        if ev.event == "audio.finished" or not ev.data.get("playing", True):
            self._playhead = None
            self._play_id = None
            if self._queue:
                QTimer.singleShot(GAP_MS, self._play_next)
        else:
            self._playhead = float(ev.data.get("t", 0.0))

    # the answer -------------------------------------------------------------------------------
    def accept(self) -> None:
        if not self.ok_btn.isEnabled():
            return
        self._result = (self.at, self.text_index)
        super().accept()

    def done(self, code: int) -> None:
        if self._play_id is not None or self._queue:
            self.stop()
        self._timer.stop()
        if self._listening:
            self._listening = False
            self.client.sig_event.disconnect(self._on_client_event)
        super().done(code)

    def result(self) -> tuple[float, int] | None:  # type: ignore[override]
        """``(at seconds in the recording, character index of the text)`` after OK."""
        return self._result
