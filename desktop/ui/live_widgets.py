"""The Live page's widgets: a slider row for one ``Control``, a level meter, the controls
box and the readout.

``QtControlSlider``: the control's label, a QSlider over its steps and its value as text
(``Control.text``); ``value_changed(name, value)`` fires with the value in the control's
own unit (seconds for block and crossfade). ``QtLevelMeter``: a QProgressBar over
-60..0 dBFS with the level as its text (``live_session.meter``). ``QtLiveControlsBox``:
a slider per ``CONTROLS`` entry and a check box per ``SWITCHES`` one, ``changed(name,
value)``. ``QtLiveReadout``: Start/Stop, Restart, the status, what a restart would apply,
the meters and the numbers of a ``LiveSession`` (``show_session``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from desktop.components.live_controls import CONTROLS, SWITCHES, Control, LiveControls
from desktop.components.live_session import (
    LiveSession,
    compute_text,
    counters_text,
    latency_text,
    meter,
    negotiated_text,
)
from desktop.ui.elided_label import QtElidedLabel

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


class QtLiveControlsBox(QGroupBox):
    changed = Signal(str, object)  # name, value (float or bool)

    def __init__(self, controls: LiveControls, bypass_key: str,
                 parent: QWidget | None = None) -> None:
        super().__init__("Controls (change while running)", parent)
        layout = QFormLayout(self)
        self.sliders: dict[str, QtControlSlider] = {}
        for spec in CONTROLS:
            slider = QtControlSlider(spec)
            slider.set_value(float(controls.values[spec.name]))
            slider.value_changed.connect(lambda n, v: self.changed.emit(n, v))
            layout.addRow(f"{spec.label}:", slider)
            self.sliders[spec.name] = slider
        self.switches: dict[str, QCheckBox] = {}
        row = QHBoxLayout()
        for name, label, _default, tip in SWITCHES:
            box = QCheckBox(label)
            box.setObjectName(f"live_{name}")
            box.setChecked(bool(controls.values[name]))
            box.setToolTip(tip + (f" ({bypass_key})" if name == "bypass" else ""))
            box.toggled.connect(lambda on, n=name: self.changed.emit(n, on))
            row.addWidget(box)
            self.switches[name] = box
        row.addStretch(1)
        layout.addRow(row)


class QtLiveReadout(QWidget):
    def __init__(self, start_key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.start_btn = QPushButton("Start")
        self.start_btn.setObjectName("live_start")
        self.restart_btn = QPushButton("Restart")
        self.restart_btn.setObjectName("live_restart")
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_btn)
        buttons.addWidget(self.restart_btn)
        self.status_label = QtElidedLabel("Not running.", lines=4)
        self.status_label.setObjectName("live_status")
        self.restart_note = QtElidedLabel(lines=3)  # beside Restart: what it would apply
        self.restart_note.setObjectName("live_restart_note")
        self.restart_note.setStyleSheet("color: #8a5a00;")
        self.input_meter, self.output_meter = QtLevelMeter("live_in"), QtLevelMeter("live_out")
        meters = QFormLayout()
        meters.addRow("Input:", self.input_meter)
        meters.addRow("Output:", self.output_meter)
        self.latency_label = QtElidedLabel(lines=3)
        self.latency_label.setObjectName("live_latency")
        self.compute_label = QtElidedLabel()
        self.counters_label = QtElidedLabel(lines=2)
        self.warning_label = QtElidedLabel(lines=2)
        self.warning_label.setObjectName("live_warning")
        self.warning_label.setStyleSheet("color: #b00020;")
        self.negotiated_label = QtElidedLabel(lines=7)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.addLayout(buttons)
        col.addWidget(self.status_label)
        col.addWidget(self.restart_note)
        col.addLayout(meters)
        for w in (self.latency_label, self.compute_label, self.counters_label,
                  self.warning_label, self.negotiated_label):
            col.addWidget(w)
        col.addStretch(1)

    def show_session(self, s: LiveSession, crossfade_ms: float) -> None:
        stats = s.stats
        self.status_label.setText(s.status_text())
        self.latency_label.setText(latency_text(stats, crossfade_ms) if stats else "")
        self.compute_label.setText(compute_text(stats) if stats else "")
        self.counters_label.setText(counters_text(stats) if stats else "")
        self.warning_label.setText(s.warning_text())
        self.negotiated_label.setText(negotiated_text(s.negotiated))
        live = stats is not None and s.active
        self.input_meter.set_level(stats.input_db if live and stats else None)
        self.output_meter.set_level(stats.output_db if live and stats else None)
