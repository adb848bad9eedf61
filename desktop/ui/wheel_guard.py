"""The scroll wheel scrolls forms; it changes a combo box or spin box only once it has focus.

``guard_wheel(root)`` installs one shared event filter on every combo box and spin box
under ``root`` (call it again after adding fields) and gives them ``Qt.StrongFocus``, so
the wheel no longer focuses them either. A wheel event over a field without focus is
not given to the field: it goes to the nearest scroll area around it (the form
scrolls), or nowhere. Click or Tab into a field and the wheel steps it as usual.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QWidget,
)

GUARDED = (QComboBox, QAbstractSpinBox)


def _scroll_area(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QAbstractScrollArea):
        parent = parent.parentWidget()
    return parent


class WheelGuard(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() != QEvent.Type.Wheel or not isinstance(watched, QWidget) \
                or watched.hasFocus():
            return False
        area = _scroll_area(watched)
        if area is not None:
            assert isinstance(event, QWheelEvent)
            viewport = area.viewport()
            pos = QPointF(viewport.mapFromGlobal(event.globalPosition().toPoint()))
            QApplication.sendEvent(viewport, QWheelEvent(
                pos, event.globalPosition(), event.pixelDelta(), event.angleDelta(),
                event.buttons(), event.modifiers(), event.phase(), event.inverted()))
        return True  # never for the field itself


_GUARD: list[WheelGuard] = []  # the one filter, made once a QApplication exists


def guard_wheel(root: QWidget) -> int:
    """Guard every combo box and spin box under ``root`` (and ``root``); returns how many."""
    if not _GUARD:
        _GUARD.append(WheelGuard())
    fields = [w for w in (root, *root.findChildren(QWidget)) if isinstance(w, GUARDED)]
    for field in fields:
        if field.property("wheel_guarded"):
            continue
        field.setProperty("wheel_guarded", True)
        field.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        field.installEventFilter(_GUARD[0])
    return len(fields)
