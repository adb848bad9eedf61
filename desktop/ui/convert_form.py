"""QtConvertForm: the conversion settings (``desktop.components.convert_settings``).

Every field's tooltip says what it does and RVC's default; "Defaults" puts RVC's values
back. A model without pitch greys out the key and the pitch method, a model without an
index greys out the index rate and consonant protection (they would do nothing).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from desktop.components.convert_settings import (
    F0_METHODS,
    F0_TOOLTIP,
    FIELDS,
    OUTPUT_RATE_TOOLTIP,
    OUTPUT_RATES,
    ConvertSettings,
    f0_description,
    f0_label,
    rate_text,
)
from desktop.components.models_library import Model
from desktop.ui.job_widgets import offer_cuda

DEVICES = (("Automatic", None), ("CPU", "cpu"), ("GPU (CUDA)", "cuda"))
DEVICE_TOOLTIP = ("Where the conversion runs: automatic uses the GPU when the backend has "
                  "one, else the CPU.")


class QtConvertForm(QGroupBox):
    settings_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Settings", parent)
        self.fields: dict[str, QSpinBox | QDoubleSpinBox] = {}
        form = QFormLayout(self)
        self.f0_method = QComboBox()
        for name in F0_METHODS:
            self.f0_method.addItem(f0_label(name), name)
            self.f0_method.setItemData(self.f0_method.count() - 1, f0_description(name),
                                       Qt.ItemDataRole.ToolTipRole)
        self.f0_method.setToolTip(F0_TOOLTIP)
        self.f0_method.currentIndexChanged.connect(self.settings_changed)
        for f in FIELDS:
            box = self._spin(f)
            self.fields[f.name] = box
            label = QLabel(f.label + ":")
            label.setToolTip(f.tooltip)
            form.addRow(label, box)
            if f.name == "key":
                pitch_label = QLabel("Pitch method:")
                pitch_label.setToolTip(F0_TOOLTIP)
                form.addRow(pitch_label, self.f0_method)
        self.output_rate = QComboBox()
        self.output_rate.setToolTip(OUTPUT_RATE_TOOLTIP)
        for rate in OUTPUT_RATES:
            self.output_rate.addItem(rate_text(rate), rate)
        self.output_rate.currentIndexChanged.connect(self.settings_changed)
        rate_label = QLabel("Output rate:")
        rate_label.setToolTip(OUTPUT_RATE_TOOLTIP)
        form.addRow(rate_label, self.output_rate)
        self.device = QComboBox()
        self.device.setToolTip(DEVICE_TOOLTIP)
        for text, value in DEVICES:
            self.device.addItem(text, value)
        device_label = QLabel("Device:")
        device_label.setToolTip(DEVICE_TOOLTIP)
        form.addRow(device_label, self.device)
        self.set_cuda(False)
        self.defaults_btn = QPushButton("RVC defaults")
        self.defaults_btn.setToolTip("Put every setting back to RVC's default.")
        self.defaults_btn.clicked.connect(lambda: self.set_values(ConvertSettings()))
        form.addRow("", self.defaults_btn)
        self.set_values(ConvertSettings())

    def _spin(self, f) -> QSpinBox | QDoubleSpinBox:
        box: QSpinBox | QDoubleSpinBox
        if f.decimals == 0:
            box = QSpinBox()
            box.setRange(int(f.minimum), int(f.maximum))
            box.setSingleStep(int(f.step))
        else:
            box = QDoubleSpinBox()
            box.setDecimals(f.decimals)
            box.setRange(f.minimum, f.maximum)
            box.setSingleStep(f.step)
        box.setToolTip(f.tooltip)
        box.valueChanged.connect(self.settings_changed)
        return box

    def set_values(self, s: ConvertSettings) -> None:
        for name, box in self.fields.items():
            box.setValue(getattr(s, name))
        self.f0_method.setCurrentIndex(max(0, self.f0_method.findData(s.f0_method)))
        self.output_rate.setCurrentIndex(max(0, self.output_rate.findData(s.output_rate)))

    def values(self) -> ConvertSettings:
        v = {name: box.value() for name, box in self.fields.items()}
        return ConvertSettings(key=float(v["key"]), f0_method=str(self.f0_method.currentData()),
                               index_rate=float(v["index_rate"]), protect=float(v["protect"]),
                               rms_mix=float(v["rms_mix"]), filter_radius=int(v["filter_radius"]),
                               output_rate=self.output_rate.currentData())

    def set_cuda(self, available: bool) -> None:
        """The GPU item is there only when the backend's hello lists a CUDA device."""
        offer_cuda(self.device, available)

    def device_value(self) -> str | None:
        """The ``device`` job argument (None: the backend chooses)."""
        return self.device.currentData()

    def set_model(self, model: Model | None) -> None:
        """Grey out what the model ignores; the output rate names the model's own rate."""
        pitch = model is None or model.f0
        for w in (self.fields["key"], self.f0_method, self.fields["filter_radius"]):
            w.setEnabled(pitch)
        index = model is None or model.index is not None
        self.fields["index_rate"].setEnabled(index)
        self.fields["protect"].setEnabled(pitch and index)  # it guards what the index changes
        self.output_rate.setItemText(0, rate_text(None, model.sample_rate if model else None))
