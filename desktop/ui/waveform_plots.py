"""QtEditorPlots: the waveform editor's two linked plots and everything drawn on them.

The waveform (a min/max envelope drawn as vertical pairs) above the
spectrogram, sharing the time axis; the selection region, the cursor and
playhead lines on both, and the shading of removed parts with dashed lines
at the kept segments' boundaries. It only draws what it is given; the
editor (desktop/ui/waveform_editor.py) decides what and when, and connects
to ``wave_vb``/``spec_vb`` (mouse) and ``region`` (dragged selection).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QScrollBar

from desktop.components.editor_view import ScrollGeometry, scroll_start
from desktop.components.waveform_data import WaveformData
from desktop.ui.waveform_viewbox import QtEditorViewBox

SHADE = (40, 40, 40, 150)
WAVE_PEN = (80, 160, 255)
CURSOR_PEN = (255, 220, 0)
PLAYHEAD_PEN = (255, 60, 60)
BOUNDARY_PEN = (0, 200, 120)
PENDING_PEN = (255, 150, 0)
PENDING_Y = 0.97  # the pending-edits bar runs along the top of the waveform
MIN_HEIGHT = 166  # both plots at least 60 px tall (the lower one also has the time axis)


class QtEditorPlots(pg.GraphicsLayoutWidget):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.wave_vb = QtEditorViewBox()
        self.wave_plot = self.addPlot(row=0, col=0, viewBox=self.wave_vb)
        self.spec_vb = QtEditorViewBox()
        self.spec_plot = self.addPlot(row=1, col=0, viewBox=self.spec_vb)
        self.overlays: list[tuple[Any, Any]] = []  # (plot, item) of the edits' shading
        self.split_markers: list[pg.InfiniteLine] = []  # one per split point and plot
        self.pending_regions: list[tuple[float, float]] = []
        self.setMinimumHeight(MIN_HEIGHT)
        self._setup_plots()

    def _setup_plots(self) -> None:
        self.wave_plot.setLabel("left", "amplitude")
        self.wave_plot.setYRange(-1.0, 1.0, padding=0.02)
        self.spec_plot.setLabel("left", "Hz")
        self.spec_plot.setLabel("bottom", "time", units="s")
        self.spec_plot.setXLink(self.wave_plot)
        self.wave_curve = pg.PlotDataItem(connect="pairs", pen=pg.mkPen(WAVE_PEN))
        self.wave_plot.addItem(self.wave_curve)
        self.spec_image = pg.ImageItem()
        self.spec_image.setColorMap(pg.colormap.get("magma"))
        self.spec_plot.addItem(self.spec_image)
        self.region = pg.LinearRegionItem(brush=(255, 255, 255, 50))
        self.region.setZValue(10)
        self.region.setVisible(False)
        self.wave_plot.addItem(self.region)
        self.cursor_lines = [pg.InfiniteLine(angle=90, pen=pg.mkPen(CURSOR_PEN))
                             for _ in range(2)]
        self.playheads = [pg.InfiniteLine(angle=90, pen=pg.mkPen(PLAYHEAD_PEN, width=2))
                          for _ in range(2)]
        for plot, cur, head in zip((self.wave_plot, self.spec_plot), self.cursor_lines,
                                   self.playheads, strict=True):
            for line in (cur, head):
                line.setVisible(False)
                line.setZValue(20)
                plot.addItem(line)

    # data and view -----------------------------------------------------------
    def show_data(self, data: WaveformData, duration: float) -> None:
        """The spectrogram of ``data``, and limits for a recording of ``duration`` s."""
        self.spec_image.setImage(data.spec, autoLevels=False, levels=(0, 255))
        self.spec_image.setRect(QRectF(0.0, 0.0, len(data.spec) * data.spec_hop,
                                       data.spec_fmax))
        for vb in (self.wave_vb, self.spec_vb):
            vb.setLimits(xMin=0.0, xMax=duration, minXRange=0.005)
        self.spec_plot.setYRange(0.0, data.spec_fmax, padding=0)
        self.spec_vb.setLimits(yMin=0.0, yMax=data.spec_fmax)
        self.wave_vb.setLimits(yMin=-1.05, yMax=1.05)

    def view_range(self) -> tuple[float, float]:
        lo, hi = self.wave_vb.viewRange()[0]
        return float(lo), float(hi)

    def set_time_range(self, start: float, end: float) -> None:
        self.wave_plot.setXRange(start, end, padding=0)

    def scroll_to(self, duration: float, value: int) -> None:
        """Move the visible range (same width) to scroll bar ``value``."""
        lo, hi = self.view_range()
        start = scroll_start(duration, lo, hi, value)
        self.set_time_range(start, start + (hi - lo))

    def draw_envelope(self, data: WaveformData) -> None:
        """The waveform of the visible range, one min/max pair per pixel column."""
        lo, hi = self.view_range()
        width = int(self.wave_vb.width()) or 800
        x, y = WaveformData.pairs(*data.envelope(lo, hi, width))
        self.wave_curve.setData(x, y)

    # marks -------------------------------------------------------------------
    def show_playhead(self, t: float | None) -> None:
        for line in self.playheads:
            line.setVisible(t is not None)
            if t is not None:
                line.setValue(t)

    def playhead(self) -> float | None:
        """Where the painted playhead is (None when hidden)."""
        line = self.playheads[0]
        return float(line.value()) if line.isVisible() else None

    def show_marks(self, selection: tuple[float, float] | None, cursor: float | None) -> None:
        """The selection region and the cursor lines (no signal from the region)."""
        self.region.blockSignals(True)
        self.region.setVisible(selection is not None)
        if selection is not None:
            self.region.setRegion(selection)
        self.region.blockSignals(False)
        for line in self.cursor_lines:
            line.setVisible(cursor is not None)
            if cursor is not None:
                line.setValue(cursor)

    def clear_edits(self) -> None:
        for plot_item, item in self.overlays:
            plot_item.removeItem(item)
        self.overlays.clear()
        self.split_markers.clear()
        self.pending_regions = []

    def draw_markers(self, splits: Sequence[float], pending: Sequence[tuple[float, float]],
                     pending_splits: Sequence[float] = ()) -> None:
        """A marked line on both plots at each split point (orange when not prepared
        yet), and an orange bar along the top of the waveform over each pending edit."""
        new = {round(t, 6) for t in pending_splits}
        for t in splits:
            colour = PENDING_PEN if round(t, 6) in new else BOUNDARY_PEN
            for plot in (self.wave_plot, self.spec_plot):
                line = pg.InfiniteLine(t, angle=90, movable=False, pen=pg.mkPen(colour, width=2))
                line.addMarker("v", position=0.98, size=12)
                line.addMarker("^", position=0.02, size=12)
                line.setToolTip("split point" + (": run Prepare to apply it" if colour ==
                                                 PENDING_PEN else ""))
                line.setZValue(8)
                plot.addItem(line)
                self.overlays.append((plot, line))
                self.split_markers.append(line)
        self.pending_regions = list(pending)
        if pending:
            xs = [x for a, b in pending for x in (a, b)]
            bar = pg.PlotDataItem(xs, [PENDING_Y] * len(xs), connect="pairs",
                                  pen=pg.mkPen(PENDING_PEN, width=6))
            bar.setZValue(9)
            self.wave_plot.addItem(bar)
            self.overlays.append((self.wave_plot, bar))

    def draw_edits(self, removed: Sequence[tuple[float, float]],
                   boundaries: Sequence[float]) -> None:
        """Shade ``removed`` parts on both plots; dashed lines at ``boundaries``."""
        for a, b in removed:
            for plot in (self.wave_plot, self.spec_plot):
                shade = pg.LinearRegionItem((a, b), movable=False, brush=SHADE,
                                            pen=pg.mkPen(None))
                shade.setZValue(5)
                plot.addItem(shade)
                self.overlays.append((plot, shade))
        for t in boundaries:
            line = pg.InfiniteLine(t, angle=90, movable=False,
                                   pen=pg.mkPen(BOUNDARY_PEN, style=Qt.PenStyle.DashLine))
            self.wave_plot.addItem(line)
            self.overlays.append((self.wave_plot, line))


def set_scroll_bar(scroll: QScrollBar, geometry: ScrollGeometry) -> None:
    """Show ``geometry`` on ``scroll`` without emitting its valueChanged."""
    scroll.blockSignals(True)
    scroll.setRange(0, geometry.maximum)
    scroll.setPageStep(geometry.page_step)
    scroll.setValue(geometry.value)
    scroll.blockSignals(False)
