"""The waveform editor's plot area: left-drag selects, click places the cursor.

Right-drag scrolls, the wheel zooms in time; the y axis stays fixed.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal


class QtEditorViewBox(pg.ViewBox):
    """Left-drag selects and left-click places the cursor; the rest pans/zooms in x."""

    sig_clicked = Signal(float)
    sig_dragged = Signal(float, float, bool)

    def __init__(self) -> None:
        super().__init__()
        self.setMouseEnabled(x=True, y=False)

    def mouseClickEvent(self, ev: Any) -> None:  # noqa: N802 (Qt name)
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.sig_clicked.emit(self.mapSceneToView(ev.scenePos()).x())
        else:
            super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev: Any, axis: Any = None) -> None:  # noqa: N802
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            a = self.mapSceneToView(ev.buttonDownScenePos()).x()
            b = self.mapSceneToView(ev.scenePos()).x()
            self.sig_dragged.emit(a, b, bool(ev.isFinish()))
        elif ev.button() == Qt.MouseButton.RightButton:
            ev.accept()
            delta = self.mapSceneToView(ev.lastScenePos()).x() - \
                self.mapSceneToView(ev.scenePos()).x()
            self.translateBy(x=delta)
        else:
            super().mouseDragEvent(ev, axis)
