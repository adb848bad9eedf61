"""QtLossPlot: the Train page's live graphs, a view of a ``MetricsHistory``.

Two linked pyqtgraph plots: the loss terms (``loss*``) on top, and a smaller one
for everything else the trainer reports (learning rate and gradient norms shown by
default; step time, throughput and GPU memory can be ticked on). Each term has a
checkbox named in words (``desktop.components.metrics.TERMS``: "How far the sound is
from the recording (mel)"; what it tells, and its key, in the tooltip); a smoothing
slider applies an exponential moving average; the loss plot has a log-scale toggle; the
mouse zooms and pans (Reset zoom fits again); hovering shows every visible term's value
(by its short name) at the step under the cursor.

Curves are redrawn by a QTimer every ``REPAINT_MS`` and only when the history's
``revision`` moved, never once per message.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from desktop.components.metrics import MetricsHistory, term_hint, term_label, term_short
from desktop.ui.elided_label import QtElidedLabel

REPAINT_MS = 100
AUX_SHOWN = ("lr", "grad_norm")  # aux terms ticked by default (by prefix)
HIDDEN_LOSSES = ("loss_g",)  # the total: ten times the others, it flattens them
MAX_SMOOTHING = 0.99
BOX_COLUMN_WIDTH = 130  # at least; wider when a term's name needs it
BOX_TEXT_WIDTH = 24  # characters: longer names wrap onto a second line
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")


def plot_group(term: str) -> str:
    """Which plot shows a term: "loss" for loss terms, "aux" for the rest."""
    return "loss" if term.startswith("loss") else "aux"


def shown_by_default(term: str) -> bool:
    """Every loss but the generator's total (its scale flattens the terms it sums), the
    learning rate and the gradient norms."""
    if term in HIDDEN_LOSSES:
        return False
    return plot_group(term) == "loss" or term.startswith(AUX_SHOWN)


class _Panel:
    """One plot, its curves and the column of checkboxes that show/hide them."""

    def __init__(self, title: str, left: str) -> None:
        self.widget = pg.PlotWidget()
        self.item = self.widget.getPlotItem()
        self.item.setTitle(title, size="9pt")
        self.item.setLabel("bottom", "step")
        self.item.setLabel("left", left)
        self.item.showGrid(x=True, y=True, alpha=0.2)
        self.cursor = pg.InfiniteLine(angle=90, movable=False,
                                      pen=pg.mkPen((150, 150, 150), style=Qt.PenStyle.DashLine))
        self.cursor.setVisible(False)
        self.item.addItem(self.cursor, ignoreBounds=True)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.boxes: dict[str, QCheckBox] = {}
        self.box_column = QVBoxLayout()
        self.box_column.setAlignment(Qt.AlignmentFlag.AlignTop)
        boxes = QWidget()
        boxes.setLayout(self.box_column)
        self.scroll = QScrollArea()
        self.scroll.setWidget(boxes)
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.fit_boxes()
        self.row = QHBoxLayout()
        self.row.addWidget(self.widget, 1)
        self.row.addWidget(self.scroll)

    def fit_boxes(self) -> None:
        """Wide enough for the longest term name and the scroll bar (no sideways scroll)."""
        margins = self.box_column.contentsMargins()
        widest = 0
        for box in self.boxes.values():
            box.ensurePolished()  # the colour's style sheet is part of its size
            widest = max(widest, box.sizeHint().width())
        inner = widest + margins.left() + margins.right()
        bar = self.scroll.verticalScrollBar().sizeHint().width()
        frame = 2 * self.scroll.frameWidth()
        self.scroll.setFixedWidth(max(BOX_COLUMN_WIDTH, inner + bar + frame))


class QtLossPlot(QWidget):
    def __init__(self, history: MetricsHistory, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = history
        self.smoothing = 0.0
        self.repaint_count = 0
        self._drawn_revision = -1
        self._colour_index = 0
        self._hover_step: float | None = None
        self.loss = _Panel("Losses", "loss")
        self.aux = _Panel("Learning rate, gradient norms", "value")
        self.aux.widget.setXLink(self.loss.widget)
        self.aux.widget.setMinimumHeight(100)
        self.aux.widget.setMaximumHeight(220)
        self.loss.widget.setMinimumHeight(120)
        self._build_controls()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._controls)
        layout.addLayout(self.loss.row, 3)
        layout.addLayout(self.aux.row, 1)
        layout.addWidget(self.readout)
        for panel in (self.loss, self.aux):
            panel.widget.scene().sigMouseMoved.connect(
                lambda pos, p=panel: self._on_scene_mouse_moved(p, pos))
        self.timer = QTimer(self)
        self.timer.setInterval(REPAINT_MS)
        self.timer.timeout.connect(self._on_timer_timeout)
        self.timer.start()

    def _build_controls(self) -> None:
        self.smoothing_slider = QSlider(Qt.Orientation.Horizontal)
        self.smoothing_slider.setRange(0, int(MAX_SMOOTHING * 100))
        self.smoothing_slider.setToolTip("Exponential moving average of the curves "
                                         "(0: raw values)")
        self.smoothing_label = QLabel()
        self.smoothing_slider.valueChanged.connect(self._on_smoothing_slider_changed)
        self.log_check = QCheckBox("Log scale")
        self.log_check.setToolTip("Logarithmic loss axis")
        self.log_check.toggled.connect(self._on_log_check_toggled)
        self.aux_log_check = QCheckBox("Log scale (lower)")
        self.aux_log_check.setToolTip("The learning rate and the gradient norms differ by "
                                      "orders of magnitude: a log axis shows both")
        self.aux_log_check.toggled.connect(self._on_aux_log_check_toggled)
        self.reset_zoom_btn = QPushButton("Reset zoom")
        self.reset_zoom_btn.setToolTip("Wheel zooms, drag pans; this fits all data again")
        self.reset_zoom_btn.clicked.connect(self.reset_zoom)
        self.readout = QtElidedLabel("Hover over the graphs to read the values.", lines=2)
        smoothing = QHBoxLayout()
        smoothing.addWidget(QLabel("Smoothing:"))
        smoothing.addWidget(self.smoothing_slider, 1)
        smoothing.addWidget(self.smoothing_label)
        smoothing.addWidget(self.reset_zoom_btn)
        scales = QHBoxLayout()
        scales.addWidget(self.log_check)
        scales.addWidget(self.aux_log_check)
        scales.addStretch(1)
        self._controls = QVBoxLayout()
        self._controls.addLayout(smoothing)
        self._controls.addLayout(scales)
        self._on_smoothing_slider_changed(0)
        self.aux_log_check.setChecked(True)

    # access (also for tests) -------------------------------------------------------
    def _panel(self, term: str) -> _Panel:
        return self.loss if plot_group(term) == "loss" else self.aux

    def curve(self, term: str) -> pg.PlotDataItem | None:
        return self._panel(term).curves.get(term)

    def checkbox(self, term: str) -> QCheckBox | None:
        return self._panel(term).boxes.get(term)

    def shown_terms(self) -> list[str]:
        return [t for p in (self.loss, self.aux) for t, b in p.boxes.items() if b.isChecked()]

    @property
    def log_scale(self) -> bool:
        return self.log_check.isChecked()

    # repaint -----------------------------------------------------------------------
    def _on_timer_timeout(self) -> None:
        if self.history.revision != self._drawn_revision:
            self.repaint_curves()

    def repaint_curves(self) -> None:
        """Redraw every curve from the history (the timer calls this when it changed)."""
        self._drawn_revision = self.history.revision
        self.repaint_count += 1
        terms = self.history.terms()
        for panel in (self.loss, self.aux):
            for term in [t for t in panel.curves if t not in terms]:
                self._remove_curve(panel, term)
        for term in terms:
            curve = self.curve(term) or self._add_curve(term)
            steps, values = self.history.series(term, self.smoothing)
            curve.setData(np.asarray(steps, dtype=float), np.asarray(values, dtype=float))
        if self._hover_step is not None:
            self._show_readout(self._hover_step)

    def _add_curve(self, term: str) -> pg.PlotDataItem:
        panel = self._panel(term)
        colour = pg.mkColor(PALETTE[self._colour_index % len(PALETTE)])
        self._colour_index += 1
        curve = panel.item.plot([], [], pen=pg.mkPen(colour, width=1.5), name=term)
        curve.setClipToView(True)
        curve.setDownsampling(auto=True, method="peak")
        box = QCheckBox(textwrap.fill(term_label(term), BOX_TEXT_WIDTH))
        box.setToolTip(term_hint(term))
        box.setStyleSheet(f"QCheckBox {{ color: {colour.name()}; }}")
        box.setChecked(shown_by_default(term))
        box.toggled.connect(lambda on, t=term: self._on_term_box_toggled(t, on))
        curve.setVisible(box.isChecked())
        panel.curves[term] = curve
        panel.boxes[term] = box
        panel.box_column.addWidget(box)
        panel.fit_boxes()
        return curve

    def _remove_curve(self, panel: _Panel, term: str) -> None:
        panel.item.removeItem(panel.curves.pop(term))
        box = panel.boxes.pop(term)
        panel.box_column.removeWidget(box)
        box.deleteLater()

    # user controls -----------------------------------------------------------------
    def _on_term_box_toggled(self, term: str, on: bool) -> None:
        curve = self.curve(term)
        if curve is not None:
            curve.setVisible(on)
        if self._hover_step is not None:
            self._show_readout(self._hover_step)

    def set_term_shown(self, term: str, on: bool) -> None:
        box = self.checkbox(term)
        if box is not None:
            box.setChecked(on)

    def _on_smoothing_slider_changed(self, value: int) -> None:
        self.smoothing = min(MAX_SMOOTHING, value / 100)
        self.smoothing_label.setText(f"{self.smoothing:.2f}")
        self._drawn_revision = -1  # redraw on the next tick

    def set_smoothing(self, smoothing: float) -> None:
        self.smoothing_slider.setValue(round(smoothing * 100))

    def _on_log_check_toggled(self, on: bool) -> None:
        self.loss.item.setLogMode(x=False, y=on)
        self.loss.item.enableAutoRange(axis="y")

    def _on_aux_log_check_toggled(self, on: bool) -> None:
        self.aux.item.setLogMode(x=False, y=on)
        self.aux.item.enableAutoRange(axis="y")

    def reset_zoom(self) -> None:
        for panel in (self.loss, self.aux):
            panel.item.enableAutoRange()

    # hover read-out ------------------------------------------------------------------
    def _on_scene_mouse_moved(self, panel: _Panel, pos: QPointF) -> None:
        if not panel.item.sceneBoundingRect().contains(pos):
            return
        step = panel.item.getViewBox().mapSceneToView(pos).x()
        self._show_readout(step)

    def _show_readout(self, step: float) -> None:
        self._hover_step = step
        for panel in (self.loss, self.aux):
            panel.cursor.setPos(step)
            panel.cursor.setVisible(True)
        self.readout.setText(self.readout_at(step))

    def readout_at(self, step: float) -> str:
        """The shown terms' recorded values at the step nearest to ``step``."""
        values = []
        for term in self.shown_terms():
            value = self.history.value_at(term, step)
            if value is not None:
                values.append(f"{term_short(term)} {value:.4g}")
        if not values:
            return "No data at the cursor."
        return f"step {max(0, round(step))}: " + " · ".join(values)
