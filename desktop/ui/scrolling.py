"""``vertical_scroll(content)``: a pane that scrolls up and down, never sideways.

The scroll area is at least as wide as ``content``'s widest row (plus its scroll bar), so
a splitter or layout beside it cannot squeeze the rows out of view; when the pane is
shorter than ``content`` it scrolls instead of squeezing the rows over one another.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget


def vertical_scroll(content: QWidget, *, min_height: int = 0, frame: bool = True,
                    max_height: int | None = None) -> QScrollArea:
    scroll = QScrollArea()
    scroll.setWidget(content)
    scroll.setWidgetResizable(True)
    if not frame:
        scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setMinimumWidth(content.minimumSizeHint().width()
                           + scroll.verticalScrollBar().sizeHint().width()
                           + 2 * scroll.frameWidth())
    if min_height:
        scroll.setMinimumHeight(min_height)
    if max_height is not None:
        scroll.setMaximumHeight(max_height)
    return scroll
