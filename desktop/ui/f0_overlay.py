"""QtF0Overlay: the pitch curve of a slice over the editor's spectrogram.

A small widget (the "Show pitch" check box and a one-line note) that owns three
items on a spectrogram plot whose y axis is linear Hz: the curve (gaps at
unvoiced frames), crosses at octave jumps in a warning colour, and a legend
with the method, the median and the jump count. Showing the pitch zooms the
spectrogram to the pitch range; hiding it shows the whole range again.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QWidget

from desktop.components.f0_overlay import F0Curve, F0FileError, f0_curve, load_f0, summary

CURVE_PEN = (0, 230, 255)
JUMP_COLOUR = (255, 140, 0)
NO_SLICE_NOTE = "pitch is shown for prepared slices after Extract"


class QtF0Overlay(QWidget):
    def __init__(self, plot: pg.PlotItem, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._plot = plot
        self.curve_data: F0Curve | None = None
        self._fmax: float | None = None
        self.check = QCheckBox("Show pitch")
        self.check.setChecked(True)
        self.check.setToolTip("Draw the extracted pitch (f0) over the spectrogram")
        self.check.toggled.connect(self._on_check_toggled)
        self.note = QLabel("")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.check)
        layout.addWidget(self.note)
        self.curve = pg.PlotDataItem(connect="finite", pen=pg.mkPen(CURVE_PEN, width=2))
        self.jumps = pg.ScatterPlotItem(symbol="x", size=12, pen=pg.mkPen(JUMP_COLOUR, width=2),
                                        brush=pg.mkBrush(JUMP_COLOUR))
        for item in (self.curve, self.jumps):
            item.setZValue(15)  # above the spectrogram and the shading, below the cursor
            plot.addItem(item)
        self.legend = pg.LegendItem(offset=(-10, 10), labelTextColor=(230, 230, 230),
                                    brush=pg.mkBrush(0, 0, 0, 150))
        self.legend.setParentItem(plot.getViewBox())
        self.clear()

    def clear(self, note: str = "") -> None:
        """No curve (another file is open); ``note`` says why."""
        self.curve_data = None
        self.curve.setData([], [])
        self.jumps.setData([], [])
        self.legend.clear()
        self.note.setText(note)
        self.check.setEnabled(False)
        self._apply()

    def set_f0(self, info: dict[str, Any] | None) -> None:
        """Show a ``features.f0`` result; None or ``path: null`` clears with the reason."""
        if info is None:
            self.clear(NO_SLICE_NOTE)
            return
        if not info.get("path"):
            self.clear(str(info.get("reason") or "no pitch for this clip"))
            return
        try:
            track = load_f0(info["path"])
        except F0FileError as exc:
            self.clear(str(exc))
            return
        curve = f0_curve(track, float(info.get("offset", 0.0)),
                         float(info.get("hop_seconds", 0.01)))
        self.curve_data = curve
        self.curve.setData(curve.x, curve.y)
        self.jumps.setData(curve.jump_x, curve.jump_y)
        text = summary(info, curve)
        self.legend.clear()
        self.legend.addItem(self.curve, text)
        self.legend.addItem(self.jumps, "octave jump")
        self.note.setText(text)
        self.check.setEnabled(True)
        self._apply()

    def set_fmax(self, fmax: float) -> None:
        """The spectrogram's top frequency (known once the analysis is shown)."""
        self._fmax = float(fmax)
        self._apply()

    def is_shown(self) -> bool:
        return self.curve_data is not None and self.check.isChecked()

    def _on_check_toggled(self, _checked: bool) -> None:
        self._apply()

    def _apply(self) -> None:
        shown = self.is_shown()
        for item in (self.curve, self.jumps, self.legend):
            item.setVisible(shown)
        if self._fmax is None:
            return
        top = self.curve_data.view_top_hz(self._fmax) if shown and self.curve_data else \
            self._fmax
        self._plot.setYRange(0.0, top, padding=0)

    def shown_data(self) -> tuple[np.ndarray, np.ndarray]:
        """The curve's x and y as given to the plot (NaN at unvoiced frames)."""
        x, y = self.curve.getOriginalDataset()
        return (np.asarray(x if x is not None else []), np.asarray(y if y is not None else []))
