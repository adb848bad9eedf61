"""QtSpeakForm: the Speak page's settings column; it views a ``SpeakSettings``.

The text-to-speech model (``tts.models``: Import…, Refresh, its details), the speaker of a
multi-speaker model, the speed and variation sliders and the optional voice-conversion
pass ("In the voice of", ``models.list``'s voice models, and its key). ``settings_changed``
carries the new ``SpeakSettings`` whenever the user changes one; ``sig_import`` and
``sig_refresh`` ask the page for those actions.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.components.speak_settings import (
    KEY_RANGE,
    SPEED_STEPS,
    VARIATION_STEPS,
    SpeakSettings,
    TtsModel,
    speed_position,
    speed_text,
    variation_position,
    variation_text,
)
from desktop.ui.elided_label import QtElidedLabel
from desktop.ui.live_pickers import narrow_combo

NO_VOICE = "none (the model's own voice)"


def _slider(name: str, low: int, high: int, tip: str) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setObjectName(name)
    slider.setRange(low, high)
    slider.setPageStep(max(1, (high - low) // 10))
    slider.setToolTip(tip)
    return slider


class QtSpeakForm(QWidget):
    settings_changed = Signal(object)  # SpeakSettings
    sig_import = Signal()
    sig_refresh = Signal()

    def __init__(self, settings: SpeakSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.models: list[TtsModel] = []
        self.voices: list[dict[str, Any]] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._build_model_box())
        layout.addWidget(self._build_sound_box())
        layout.addWidget(self._build_voice_box())
        layout.addStretch(1)
        self._show_settings()

    # construction --------------------------------------------------------------------------
    def _build_model_box(self) -> QGroupBox:
        box = QGroupBox("Text-to-speech model")
        self.model_combo = narrow_combo("speak_model")
        self.model_combo.activated.connect(self._on_model_combo_activated)
        self.import_btn = QPushButton("Import…")
        self.import_btn.setToolTip("Add a VITS model file to the models library: a model "
                                   "exported by Timbre Studio (.pth or .zip) or an original "
                                   "VITS G_<step>.pth with its config.json beside it.")
        self.refresh_btn = QPushButton("Refresh")
        self.refresh_btn.setToolTip("List the models again (the library and the project's "
                                    "exports).")
        self.import_btn.clicked.connect(self.sig_import.emit)
        self.refresh_btn.clicked.connect(self.sig_refresh.emit)
        self.model_details = QtElidedLabel(lines=3)
        self.model_details.setObjectName("speak_model_details")
        self.speaker_combo = narrow_combo("speak_speaker")
        self.speaker_combo.setToolTip("Whose voice says it (models trained on several "
                                      "speakers)")
        self.speaker_combo.activated.connect(self._on_speaker_combo_activated)
        buttons = QHBoxLayout()
        buttons.addWidget(self.import_btn)
        buttons.addWidget(self.refresh_btn)
        buttons.addStretch(1)
        form = QFormLayout(box)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow("Model:", self.model_combo)
        form.addRow(buttons)
        form.addRow(self.model_details)
        form.addRow("Speaker:", self.speaker_combo)
        return box

    def _build_sound_box(self) -> QGroupBox:
        box = QGroupBox("How it sounds")
        self.speed = _slider("speak_speed", -SPEED_STEPS, SPEED_STEPS,
                             "How fast it speaks: the middle is the model's own pace, the "
                             "ends four times slower and four times faster.")
        self.speed_label = QLabel()
        self.variation = _slider("speak_variation", 0, VARIATION_STEPS,
                                 "How much the voice varies (the noise scale): low is flat "
                                 "and even, high is lively and can go wrong; 0.67 is the "
                                 "usual.")
        self.variation_label = QLabel()
        self.speed.valueChanged.connect(self._on_speed_value_changed)
        self.variation.valueChanged.connect(self._on_variation_value_changed)
        form = QFormLayout(box)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        form.addRow("Speed:", self._with_value(self.speed, self.speed_label))
        form.addRow("Variation:", self._with_value(self.variation, self.variation_label))
        return box

    @staticmethod
    def _with_value(slider: QSlider, label: QLabel) -> QWidget:
        row = QWidget()
        layout = QVBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(slider)
        layout.addWidget(label)
        return row

    def _build_voice_box(self) -> QGroupBox:
        box = QGroupBox("In the voice of")
        box.setToolTip("Pass the speech through a voice-conversion model of the models "
                       "library: a voice with too little labelled audio for text-to-speech "
                       "can still say it.")
        self.voice_combo = narrow_combo("speak_voice")
        self.voice_combo.activated.connect(self._on_voice_combo_activated)
        self.key = QSpinBox()
        self.key.setObjectName("speak_key")
        self.key.setRange(*KEY_RANGE)
        self.key.setSuffix(" st")
        self.key.setToolTip("Pitch shift of the voice conversion in semitones: +12 is an "
                            "octave up (a male speaker into a female voice).")
        self.key.valueChanged.connect(self._on_key_value_changed)
        self.voice_note = QtElidedLabel(lines=2)
        self.voice_note.setObjectName("speak_voice_note")
        form = QFormLayout(box)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow("Voice:", self.voice_combo)
        form.addRow("Key:", self.key)
        form.addRow(self.voice_note)
        return box

    # models -----------------------------------------------------------------------------------
    def set_models(self, models: list[TtsModel]) -> None:
        """The listed models; the one chosen before stays chosen when it is listed."""
        self.models = list(models)
        combo = self.model_combo
        combo.clear()
        for m in models:
            combo.addItem(m.label(), m.id)
            combo.setItemData(combo.count() - 1, m.details(), Qt.ItemDataRole.ToolTipRole)
        chosen = self.model()
        if chosen is None and models:
            self._set(model_id=models[0].id)
        self._show_model()

    def model(self) -> TtsModel | None:
        return next((m for m in self.models if m.id == self.settings.model_id), None)

    def select_model(self, model_id: str) -> bool:
        if not any(m.id == model_id for m in self.models):
            return False
        self._set(model_id=model_id)
        self._show_model()
        return True

    def set_voices(self, voices: list[dict[str, Any]]) -> None:
        """The voice-conversion models of ``models.list``; a chosen voice that is gone is
        forgotten (said in the note)."""
        self.voices = list(voices)
        combo = self.voice_combo
        combo.clear()
        combo.addItem(NO_VOICE, None)
        for v in voices:
            combo.addItem(str(v.get("name") or v["path"]), v["path"])
            combo.setItemData(combo.count() - 1, v["path"], Qt.ItemDataRole.ToolTipRole)
        gone = self.settings.voice is not None and combo.findData(self.settings.voice) < 0
        self.voice_note.setText(f"The voice chosen before is no longer in the library: "
                                f"{self.settings.voice}" if gone else "")
        if gone:
            self._set(voice=None)
        self._show_voice()

    def voice_name(self) -> str | None:
        voice = self.settings.voice
        return next((str(v.get("name") or voice) for v in self.voices if v["path"] == voice),
                    None)

    # view -----------------------------------------------------------------------------------
    def _show_settings(self) -> None:
        s = self.settings
        for slider, value in ((self.speed, speed_position(s.length_scale)),
                              (self.variation, variation_position(s.noise_scale))):
            slider.blockSignals(True)
            slider.setValue(value)
            slider.blockSignals(False)
        self.key.blockSignals(True)
        self.key.setValue(s.voice_key)
        self.key.blockSignals(False)
        self.speed_label.setText(speed_text(s.length_scale))
        self.variation_label.setText(variation_text(s.noise_scale))
        self._show_model()
        self._show_voice()

    def _show_model(self) -> None:
        model = self.model()
        self.model_combo.setCurrentIndex(self.model_combo.findData(model.id) if model else -1)
        self.model_details.setText(model.details() if model else "")
        combo = self.speaker_combo
        combo.clear()
        if model is None or not model.multi_speaker:
            combo.addItem("(one speaker)" if model else "", None)
            combo.setEnabled(False)
            return
        for name in model.speakers:
            combo.addItem(name, name)
        if self.settings.speaker not in model.speakers:
            self._set(speaker=model.speakers[0])
        combo.setCurrentIndex(combo.findData(self.settings.speaker))
        combo.setEnabled(True)

    def _show_voice(self) -> None:
        at = self.voice_combo.findData(self.settings.voice) if self.settings.voice else 0
        self.voice_combo.setCurrentIndex(max(0, at))
        self.key.setEnabled(self.settings.voice is not None)

    def _set(self, **changes: Any) -> None:
        self.settings = replace(self.settings, **changes)
        self.settings_changed.emit(self.settings)

    # user -> settings -------------------------------------------------------------------------
    def _on_model_combo_activated(self, index: int) -> None:
        model_id = self.model_combo.itemData(index)
        if model_id is not None and model_id != self.settings.model_id:
            self.select_model(model_id)

    def _on_speaker_combo_activated(self, index: int) -> None:
        name = self.speaker_combo.itemData(index)
        if name is not None:
            self._set(speaker=name)

    def _on_speed_value_changed(self, position: int) -> None:
        self.settings = self.settings.with_speed_position(position)
        self.speed_label.setText(speed_text(self.settings.length_scale))
        self.settings_changed.emit(self.settings)

    def _on_variation_value_changed(self, position: int) -> None:
        self.settings = self.settings.with_variation_position(position)
        self.variation_label.setText(variation_text(self.settings.noise_scale))
        self.settings_changed.emit(self.settings)

    def _on_voice_combo_activated(self, index: int) -> None:
        self.voice_note.setText("")
        self._set(voice=self.voice_combo.itemData(index))
        self._show_voice()

    def _on_key_value_changed(self, value: int) -> None:
        self._set(voice_key=value)
