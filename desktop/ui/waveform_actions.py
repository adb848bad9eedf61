"""The waveform editor's tool buttons and keyboard shortcuts, by action name.

The editor hands a dict ``{action: slot}``; the buttons and keys here call
those slots. Shortcuts work while the editor or any child has focus, and the
buttons never take focus (Space must play, not click the focused button).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QToolButton, QWidget

Slot = Callable[[], Any]

BUTTONS: tuple[tuple[str, str, str], ...] = (  # action, text, tool tip
    ("play", "Play", "Play the selection (Space)"),
    ("stop", "Stop", "Stop playback (Esc)"),
    ("split", "Split", "Split at the cursor (S)"),
    ("trim", "Trim", "Keep only the selection (T)"),
    ("delete", "Delete", "Delete the selection (Del)"),
    ("undo", "Undo", "Undo (Ctrl+Z)"),
    ("redo", "Redo", "Redo (Ctrl+Shift+Z or Ctrl+Y)"),
    ("fit", "Fit", "Zoom to fit the whole recording"),
)

SHORTCUTS: tuple[tuple[Any, str], ...] = (  # key, action
    (Qt.Key.Key_Space, "play"), (Qt.Key.Key_Escape, "stop"),
    (Qt.Key.Key_S, "split"), (Qt.Key.Key_T, "trim"),
    (QKeySequence.StandardKey.Delete, "delete"), (Qt.Key.Key_Backspace, "delete"),
    (QKeySequence.StandardKey.Undo, "undo"), ("Ctrl+Shift+Z", "redo"), ("Ctrl+Y", "redo"),
)


def add_buttons(bar: QHBoxLayout, slots: Mapping[str, Slot]) -> dict[str, QToolButton]:
    """One tool button per action in ``BUTTONS`` (in that order), added to ``bar``."""
    buttons: dict[str, QToolButton] = {}
    for key, text, tip in BUTTONS:
        btn = QToolButton()
        btn.setText(text)
        btn.setToolTip(tip)
        btn.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space must not click a button
        btn.clicked.connect(slots[key])
        bar.addWidget(btn)
        buttons[key] = btn
    return buttons


def add_shortcuts(widget: QWidget, slots: Mapping[str, Slot]) -> list[QShortcut]:
    """The ``SHORTCUTS`` of ``widget`` and its children."""
    shortcuts: list[QShortcut] = []
    for key, action in SHORTCUTS:
        sc = QShortcut(QKeySequence(key), widget)
        sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        sc.activated.connect(slots[action])
        shortcuts.append(sc)
    return shortcuts
