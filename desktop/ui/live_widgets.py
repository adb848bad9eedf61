"""The Live page's small widgets: a slider row for one ``Control`` and a level meter.

``QtControlSlider``: the control's label, a QSlider over its steps and its value as text
(``Control.text``); ``value_changed(name, value)`` fires with the value in the control's
own unit (seconds for block and crossfade). ``QtLevelMeter``: a QProgressBar over
-60..0 dBFS with the level as its text (``live_session.meter``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QSlider, QWidget

from desktop.components.live_controls import Control
from desktop.components.live_session import meter

METER_STEPS = 1000


class QtControlSlider(QWidget):
    value_changed = Signal(str, float)

    def __init__(self, spec: Control, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName(f"live_{spec.name}")
        self.slider.setRange(0, spec.steps)
        self.slider.setPageStep(max(1, spec.steps // 10))
        self.slider.setMinimumWidth(80)
        self.slider.setToolTip(spec.tip)
        self.value_label = QLabel()
        self.value_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("-1000 ms "))
        self.value_label.setAlignment(Qt.AlignmentFlag.AlignRight
                                      | Qt.AlignmentFlag.AlignVCenter)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.value_label)
        self.set_value(spec.default)
        self.slider.valueChanged.connect(self._on_moved)

    def value(self) -> float:
        return self.spec.value_at(self.slider.value())

    def set_value(self, value: float) -> None:
        """Show a value (no ``value_changed``)."""
        self.slider.blockSignals(True)
        self.slider.setValue(self.spec.position(value))
        self.slider.blockSignals(False)
        self.value_label.setText(self.spec.text(self.value()))

    def _on_moved(self, _position: int) -> None:
        self.value_label.setText(self.spec.text(self.value()))
        self.value_changed.emit(self.spec.name, self.value())


class QtLevelMeter(QProgressBar):
    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setRange(0, METER_STEPS)
        self.setTextVisible(True)
        self.set_level(None)

    def set_level(self, db: float | None) -> None:
        fill, text = meter(db)
        self.setValue(round(fill * METER_STEPS))
        self.setFormat(text)
