"""The Live page's pickers: a host API and a device for one direction, and the voice model.

``QtDevicePicker(direction)`` shows the host APIs that have a device for its direction
and, below, that host API's devices (``DeviceList``); ``set_devices(devices, remembered)``
refills both and selects the remembered device by name (``DeviceList.pick``) and returns
the pick's note. ``QtVoiceBox`` (model, Refresh, pitch method) and ``QtDevicesBox`` (the
two pickers, WASAPI exclusive, the note, Refresh devices, Virtual cables…) are the Live
page's first two group boxes. Combo boxes are as wide as 12 characters at least and never as wide as
their longest item: device names are long; each item carries its whole name as tooltip.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.components.extract_settings import method
from desktop.components.live_controls import LIVE_PITCH_METHODS, LiveModel
from desktop.components.live_devices import (
    INPUT,
    OUTPUT,
    AudioDevice,
    DeviceList,
    HostApi,
    Pick,
    Remembered,
)
from desktop.ui.elided_label import QtElidedLabel

MIN_CHARS = 12


def narrow_combo(name: str) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(MIN_CHARS)
    return combo


def _add(combo: QComboBox, text: str, data: object, tip: str) -> None:
    combo.addItem(text, data)
    combo.setItemData(combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)


class QtDevicePicker(QWidget):
    changed = Signal()  # the user chose another host API or device

    def __init__(self, direction: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.direction = direction
        self.devices = DeviceList([], [])
        word = "Input" if direction == INPUT else "Output"
        self.host_api_combo = narrow_combo(f"live_{direction}_host_api")
        self.host_api_combo.setToolTip(f"{word} host API (MME, DirectSound, WASAPI, ASIO on "
                                       "Windows; ALSA, PulseAudio, JACK on Linux). Input and "
                                       "output may use different ones.")
        self.device_combo = narrow_combo(f"live_{direction}_device")
        self.host_api_combo.activated.connect(self._on_host_api_chosen)
        self.device_combo.activated.connect(lambda _i: self._on_changed())
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(f"{word} host API:", self.host_api_combo)
        form.addRow(f"{word} device:", self.device_combo)

    def host_api(self) -> HostApi | None:
        return self.devices.host_api(self.host_api_combo.currentData())

    def device(self) -> AudioDevice | None:
        return self.devices.device(self.device_combo.currentData())

    def remembered(self) -> Remembered | None:
        device = self.device()
        return self.devices.remembered(device) if device is not None else None

    def set_devices(self, devices: DeviceList, remembered: Remembered | None) -> Pick:
        """Refill from a new ``live.devices`` answer; selects the remembered device."""
        self.devices = devices
        pick = devices.pick(self.direction, remembered)
        self.host_api_combo.clear()
        for api in devices.host_apis(self.direction):
            _add(self.host_api_combo, api.name, api.index, api.name)
        if pick.host_api is not None:
            self.host_api_combo.setCurrentIndex(self.host_api_combo.findData(pick.host_api.index))
        self._fill_devices(pick.device)
        return pick

    def select(self, device: AudioDevice) -> None:
        self.host_api_combo.setCurrentIndex(self.host_api_combo.findData(device.host_api))
        self._fill_devices(device)

    def _fill_devices(self, selected: AudioDevice | None) -> None:
        self.device_combo.clear()
        for d in self.devices.devices(self.direction, self.host_api_combo.currentData()):
            tip = f"{d.name}\n{d.channels(self.direction)} channels, {d.default_samplerate:g} Hz"
            _add(self.device_combo, d.label(), d.index, tip)
        if selected is not None:
            self.device_combo.setCurrentIndex(self.device_combo.findData(selected.index))
        self.device_combo.setToolTip(self.device().name if self.device() else "")

    def _on_host_api_chosen(self, _index: int) -> None:
        api = self.host_api_combo.currentData()
        self._fill_devices(self.devices.default_device(self.direction, api))
        self._on_changed()

    def _on_changed(self) -> None:
        self.device_combo.setToolTip(self.device().name if self.device() else "")
        self.changed.emit()


class QtModelPicker(QComboBox):
    """The voice models of ``models.list``; ``model()`` is the chosen ``LiveModel``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("live_model")
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(MIN_CHARS)
        self.models: list[LiveModel] = []

    def set_models(self, models: list[LiveModel], selected_path: str) -> None:
        self.models = list(models)
        self.clear()
        for n, m in enumerate(self.models):
            _add(self, m.label(), n, m.tooltip())
        at = next((n for n, m in enumerate(self.models) if m.path == selected_path), 0)
        if self.models:
            self.setCurrentIndex(at)
        self.setToolTip(self.model().tooltip() if self.model() else "")

    def model(self) -> LiveModel | None:
        n = self.currentData()
        return self.models[n] if isinstance(n, int) and 0 <= n < len(self.models) else None


class QtVoiceBox(QGroupBox):
    def __init__(self, f0_method: str, parent: QWidget | None = None) -> None:
        super().__init__("Voice", parent)
        self.model_picker = QtModelPicker()
        self.refresh_btn = QPushButton("Refresh")
        self.refresh_btn.setToolTip("List the models again (the open project's exports and "
                                    "the models library)")
        row = QHBoxLayout()
        row.addWidget(self.model_picker, 1)
        row.addWidget(self.refresh_btn)
        self.pitch = narrow_combo("live_pitch")
        for name in LIVE_PITCH_METHODS:
            m = method(name)
            _add(self.pitch, m.label if m else name, name, m.description if m else name)
        self.pitch.setCurrentIndex(max(0, self.pitch.findData(f0_method)))
        self.models_label = QtElidedLabel(lines=2)
        layout = QFormLayout(self)
        layout.addRow("Model:", row)
        layout.addRow("", self.models_label)
        layout.addRow("Pitch method:", self.pitch)


class QtDevicesBox(QGroupBox):
    def __init__(self, exclusive: bool, docs: str, parent: QWidget | None = None) -> None:
        super().__init__("Devices", parent)
        self.pickers = {d: QtDevicePicker(d) for d in (INPUT, OUTPUT)}
        self.exclusive = QCheckBox("WASAPI exclusive mode")
        self.exclusive.setChecked(exclusive)
        self.exclusive.setToolTip("Windows only: the lowest delay, but no other program can "
                                  "use the device while the stream runs.")
        self.note = QtElidedLabel(lines=4)
        self.note.setObjectName("live_devices_note")
        self.note.setStyleSheet("color: #8a5a00;")
        self.refresh_btn = QPushButton("Refresh devices")
        self.cables_btn = QPushButton("Virtual cables (Discord, OBS)…")
        self.cables_btn.setToolTip("How to send the converted voice to Discord or OBS "
                                   f"through a virtual cable: {docs}")
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_btn)
        buttons.addWidget(self.cables_btn)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        for w in (self.pickers[INPUT], self.pickers[OUTPUT], self.exclusive, self.note):
            layout.addWidget(w)
        layout.addLayout(buttons)
