"""QtConvertWaveforms: the original above, the converted result below, on one time axis.

Each plot draws a ``WaveformData`` (an ``audio.analyze`` result) as a min/max envelope;
a playhead on both shows where the A/B playback is, its colour saying which side plays.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg

from desktop.components.convert_session import ORIGINAL, RESULT
from desktop.components.waveform_data import WaveformData

WAVE_PENS = {ORIGINAL: (150, 150, 150), RESULT: (80, 160, 255)}
PLAYHEAD_PEN = (255, 60, 60)
MIN_HEIGHT = 200  # both plots at least 60 px tall, with their titles and the time axis
ENVELOPE_WIDTH = 1200  # min/max pairs drawn over the whole file


class QtConvertWaveforms(pg.GraphicsLayoutWidget):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("convert_waveforms")
        self.setMinimumHeight(MIN_HEIGHT)
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.heads: dict[str, pg.InfiniteLine] = {}
        self.data: dict[str, WaveformData | None] = {ORIGINAL: None, RESULT: None}
        for row, side in enumerate((ORIGINAL, RESULT)):
            plot = self.addPlot(row=row, col=0)
            plot.setTitle(side.capitalize(), size="9pt")
            plot.setMouseEnabled(x=True, y=False)
            plot.setYRange(-1.0, 1.0, padding=0.02)
            plot.hideAxis("left")
            curve = pg.PlotDataItem(connect="pairs", pen=pg.mkPen(WAVE_PENS[side]))
            plot.addItem(curve)
            head = pg.InfiniteLine(angle=90, pen=pg.mkPen(PLAYHEAD_PEN, width=2))
            head.setVisible(False)
            head.setZValue(20)
            plot.addItem(head)
            self.plots[side], self.curves[side], self.heads[side] = plot, curve, head
        self.plots[RESULT].setXLink(self.plots[ORIGINAL])
        self.plots[RESULT].setLabel("bottom", "time", units="s")
        self.plots[ORIGINAL].hideAxis("bottom")

    def set_title(self, side: str, title: str) -> None:
        self.plots[side].setTitle(title, size="9pt")

    def show_wave(self, side: str, data: WaveformData | None) -> None:
        """Draw ``data`` on its plot (None: clear it); the view spans the longer file."""
        self.data[side] = data
        if data is None:
            self.curves[side].setData([], [])
        else:
            x, y = WaveformData.pairs(*data.envelope(0.0, data.duration, ENVELOPE_WIDTH))
            self.curves[side].setData(x, y)
        longest = max((d.duration for d in self.data.values() if d is not None), default=0.0)
        if longest > 0:
            self.plots[ORIGINAL].setXRange(0.0, longest, padding=0)

    def clear_waves(self) -> None:
        """(Not ``clear``: GraphicsLayoutWidget binds that name to its layout's clear.)"""
        for side in (ORIGINAL, RESULT):
            self.show_wave(side, None)
        self.show_playhead(None)

    def show_playhead(self, t: float | None, side: str = RESULT) -> None:
        for name, head in self.heads.items():
            head.setVisible(t is not None)
            if t is not None:
                head.setValue(t)
                head.setPen(pg.mkPen(PLAYHEAD_PEN if name == side else (200, 200, 200),
                                     width=2))

    def playhead(self) -> float | None:
        head = self.heads[RESULT]
        return float(head.value()) if head.isVisible() else None
