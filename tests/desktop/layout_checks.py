"""Layout checks for a widget that is not the main window (a panel in a host, a dialog):
the same rules as test_layout.py's, applied under any root widget."""

from __future__ import annotations

import contextlib

import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QScrollArea, QWidget

from tests.desktop.test_layout import _laid_out_by_parent, _name, _plot_problems


def widget_problems(root: QWidget) -> list[str]:
    """Visible widgets under ``root`` smaller than their minimum size, labels shorter than
    their text needs, scrolling forms that would scroll sideways, plots under 60 px."""
    problems = []
    for w in root.findChildren(QWidget):
        if not w.isVisibleTo(root) or w.isWindow() or _laid_out_by_parent(w, root):
            continue
        hint = w.minimumSizeHint()
        if hint.isValid() and (w.width() < hint.width() or w.height() < hint.height()):
            problems.append(f"{_name(w)}: {w.width()}x{w.height()} < {hint.width()}x"
                            f"{hint.height()}")
        if isinstance(w, QLabel) and w.hasHeightForWidth() and \
                w.height() < w.heightForWidth(w.width()):
            problems.append(f"{_name(w)}: {w.height()} px tall, needs "
                            f"{w.heightForWidth(w.width())}")
        if isinstance(w, QScrollArea) and w.widget() is not None and \
                w.viewport().width() < w.widget().minimumSizeHint().width():
            problems.append(f"{_name(w)}: its content is wider than its view")
        if isinstance(w, pg.GraphicsView):
            problems += _plot_problems(w)
    return problems


def settled_problems(qtbot, root: QWidget) -> list[str]:
    """``widget_problems`` once the layouts have settled (they take a few event passes)."""
    found: list[str] = []

    def ok() -> bool:
        found[:] = widget_problems(root)
        return not found

    with contextlib.suppress(qtbot.TimeoutError):
        qtbot.waitUntil(ok, timeout=1000)
    return found
