"""QtSpeakForm: the Speak page's settings column; it views a ``SpeakSettings``.

The text-to-speech model (``tts.models {project?}``: Import… through ``models.import``,
Refresh, its details), the speaker of a multi-speaker model, the speed and variation
sliders and the optional voice-conversion pass ("In the voice of", the voice models of
``models.list {project?}``, and its key). The lists are asked once per project while an
answer is on its way; an answer for another project than the current one is dropped.
``settings_changed`` carries the new ``SpeakSettings`` whenever the user changes one,
``models_changed`` says the models were listed, ``sig_message(text, error)`` what an
import or a listing came to.
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

from desktop.components.request_book import InFlight
from desktop.components.settings import AppSettings
from desktop.components.speak_session import failed_text
from desktop.components.speak_settings import (
    KEY_RANGE,
    SPEED_STEPS,
    VARIATION_STEPS,
    SpeakSettings,
    TtsModel,
    speed_position,
    speed_text,
    tts_models_from_result,
    variation_position,
    variation_text,
    voice_models_from_result,
)
from desktop.ui import file_dialogs
from desktop.ui.elided_label import QtElidedLabel
from desktop.ui.live_pickers import narrow_combo

NO_VOICE = "none (the model's own voice)"
MODEL_FILTER = "VITS text-to-speech models (*.pth *.zip);;All (*)"


def _slider(name: str, low: int, high: int, tip: str) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setObjectName(name)
    slider.setRange(low, high)
    slider.setPageStep(max(1, (high - low) // 10))
    slider.setToolTip(tip)
    return slider


class QtSpeakForm(QWidget):
    settings_changed = Signal(object)  # SpeakSettings
    models_changed = Signal()
    sig_message = Signal(str, bool)  # text, error

    def __init__(self, client: Any, settings: SpeakSettings,
                 app_settings: AppSettings | None = None, parent: QWidget | None = None
                 ) -> None:
        super().__init__(parent)
        self.client, self.app_settings = client, app_settings
        self.settings = settings
        self.models: list[TtsModel] = []
        self.voices: list[dict[str, Any]] = []
        self.project: str | None = None
        self.models_loaded = self.voices_loaded = False
        self._asked = InFlight()
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
        self.import_btn.clicked.connect(lambda: self.import_model())
        self.refresh_btn.clicked.connect(lambda: self.refresh())
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

    # lists --------------------------------------------------------------------------------
    def set_project(self, path: str | None, *, now: bool, again: bool = False) -> None:
        """The open project (its exports are listed); ``again``: the same project, whose
        exports changed. Asked at once when ``now``, else when the page is next shown."""
        if path == self.project and not again:
            return
        self.project = path
        self.models_loaded = self.voices_loaded = False
        if now:
            self.refresh()

    def refresh(self, missing_only: bool = False) -> None:
        if not (missing_only and self.models_loaded):
            self.refresh_models()
        if not (missing_only and self.voices_loaded):
            self.refresh_voices()

    def _args(self) -> dict[str, Any]:
        return {"project": self.project} if self.project else {}

    def refresh_models(self, select: str | None = None) -> bool:
        """``tts.models``; ``select``: the id to choose once listed (an import)."""
        args = self._args()

        def done(result: dict[str, Any]) -> None:
            if args == self._args():  # else the project changed: its answer is coming
                self.models_loaded = True
                self.set_models(tts_models_from_result(result))
                if select is not None:
                    self.select_model(select)
                self.models_changed.emit()

        def failed(err: Any) -> None:
            if args == self._args():
                self.models_loaded = True
                self.models_changed.emit()
                self.sig_message.emit("Could not list the text-to-speech models: "
                                      f"{err.message}", True)

        return self._asked.ask(f"tts.models {args}", lambda ok, err: self.client.request(
            "tts.models", args, ok, err), done, failed)

    def refresh_voices(self) -> bool:
        args = self._args()

        def done(result: dict[str, Any]) -> None:
            if args == self._args():
                self.voices_loaded = True
                self.set_voices(voice_models_from_result(result))

        def failed(err: Any) -> None:
            if args == self._args():
                self.voices_loaded = True
                self.voice_note.setText(f"Could not list the voice models: {err.message}")

        return self._asked.ask(f"models.list {args}", lambda ok, err: self.client.request(
            "models.list", args, ok, err), done, failed)

    def pick_model_file(self) -> str:
        """A model file chosen by the user ("" if cancelled). Tests replace this."""
        return file_dialogs.open_file(self, self.app_settings, "tts_model",
                                      "Import a text-to-speech model", MODEL_FILTER)

    def import_model(self, path: str | None = None) -> str | None:
        """``models.import``: a TTS model is listed and chosen; a voice-conversion model is
        listed under "In the voice of"."""
        path = path or self.pick_model_file()
        if not path:
            return None
        self.sig_message.emit(f"Importing {path}…", False)

        def done(result: dict[str, Any]) -> None:
            model = result.get("model") if isinstance(result.get("model"), dict) else {}
            if model.get("kind") == "voice":
                self.sig_message.emit(f"{path} is a voice-conversion model, not "
                                      "text-to-speech: it was added to the library and is "
                                      "listed under “In the voice of”.", False)
                self.refresh_voices()
                return
            self.sig_message.emit(f"Imported {model.get('name') or path}.", False)
            self.refresh_models(select=str(model.get("id") or ""))

        return self.client.request("models.import", {"path": path}, done, lambda err: (
            self.sig_message.emit(failed_text(err.code, err.message,
                                              f"Could not import {path}"), True)))

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
