"""QtTranscribeForm: the transcription settings (``desktop.components.transcribe_settings``).

Narrow by design (it sits beside the Labels table): labels above their fields, combo
boxes sized by 10 characters (never by their longest item), notes that wrap and elide.
The engine, model and language choices come from ``transcribe.engines``
(``set_engines``); "Model folder…" picks a folder holding a model (engines whose models
download as assets). ``values()`` / ``set_values()`` as ``TranscribeSettings``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QWidget,
)

from desktop.components.assets import format_size
from desktop.components.settings import AppSettings
from desktop.components.transcribe_settings import (
    CUT_LONG_DEFAULT,
    CUT_LONG_RANGE,
    DEVICE_LABELS,
    DEVICES,
    EngineInfo,
    EngineList,
    TranscribeSettings,
    is_folder_path,
    language_label,
)
from desktop.ui import file_dialogs
from desktop.ui.elided_label import QtElidedLabel
from desktop.ui.job_widgets import offer_cuda

OTHER_MODEL = "__folder__"
MIN_CHARS = 10
REDO_TIP = ("Transcribe again the clips already transcribed with this model. Text you typed "
            "or imported is never replaced.")
CUT_TIP = ("Recordings longer than this are transcribed whole with word times and cut at "
           "word boundaries (sentence ends and pauses first) into clips of up to 12 s; the "
           "next Prepare applies the cuts. Off: the clips stay as Prepare sliced them.")
DEVICE_TIP = "Where the transcription runs: automatic uses the GPU when the backend has one."


def narrow_combo() -> QComboBox:
    combo = QComboBox()
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(MIN_CHARS)
    return combo


class QtTranscribeForm(QWidget):
    settings_changed = Signal()

    def __init__(self, settings: AppSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.app_settings = settings
        self.engines = EngineList()
        self._filling = False  # set_values/set_engines are filling the combos
        self._wanted: TranscribeSettings | None = None  # set before the engines were known
        self._model_before: str | None = None  # the choice before "Model folder…"
        self.engine = narrow_combo()
        self.model = narrow_combo()
        self.language = narrow_combo()
        self.device = narrow_combo()
        self.device.setToolTip(DEVICE_TIP)
        for d in DEVICES:
            self.device.addItem(DEVICE_LABELS[d], d)
        self.note = QtElidedLabel(lines=3)
        self.note.setObjectName("transcribe_note")
        self.redo = QCheckBox("Transcribe again")
        self.redo.setToolTip(REDO_TIP)
        self.cut = QCheckBox("Cut long recordings")
        self.cut.setToolTip(CUT_TIP)
        self.cut_seconds = QDoubleSpinBox()
        self.cut_seconds.setRange(*CUT_LONG_RANGE)
        self.cut_seconds.setDecimals(0)
        self.cut_seconds.setSuffix(" s")
        self.cut_seconds.setValue(CUT_LONG_DEFAULT)
        self.cut_seconds.setToolTip(CUT_TIP)
        self.cut_seconds.setEnabled(False)
        self._connect()
        self._lay_out()

    def _connect(self) -> None:
        self.engine.currentIndexChanged.connect(self._on_engine_changed)
        self.model.activated.connect(self._on_model_activated)
        self.model.currentIndexChanged.connect(self._on_model_changed)
        for combo in (self.language, self.device):
            combo.currentIndexChanged.connect(self._changed)
        self.redo.toggled.connect(self._changed)
        self.cut.toggled.connect(self.cut_seconds.setEnabled)
        self.cut.toggled.connect(self._changed)
        self.cut_seconds.valueChanged.connect(self._changed)

    def _lay_out(self) -> None:
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)  # labels above fields
        form.addRow("Engine:", self.engine)
        form.addRow("Model:", self.model)
        form.addRow(self.note)
        form.addRow("Language:", self.language)
        form.addRow("Device:", self.device)
        cut_row = QHBoxLayout()
        cut_row.addWidget(self.cut)
        cut_row.addWidget(self.cut_seconds)
        cut_row.addStretch(1)
        form.addRow(cut_row)
        form.addRow(self.redo)

    def _changed(self) -> None:
        if not self._filling:
            self.settings_changed.emit()

    # choices ------------------------------------------------------------------------
    def set_cuda(self, available: bool) -> None:
        offer_cuda(self.device, available)

    def set_engines(self, engines: EngineList) -> None:
        """New ``transcribe.engines`` answer; the current choices stay where they can."""
        current = self._wanted or self.values()
        self._wanted = None
        self.engines = engines
        self._filling = True
        self.engine.clear()
        for e in engines.engines:
            self.engine.addItem(e.title, e.name)
            self.engine.setItemData(self.engine.count() - 1, _engine_tip(e),
                                    Qt.ItemDataRole.ToolTipRole)
            item = self.engine.model().item(self.engine.count() - 1)  # QStandardItemModel
            if e.problem and item is not None:
                item.setEnabled(False)
        self._filling = False
        self.set_values(current)

    def set_values(self, s: TranscribeSettings) -> None:
        if self.engines.engines:
            s = s.fit(self.engines)
        else:
            self._wanted = s  # chosen once the engines are known
        self._filling = True
        self.engine.setCurrentIndex(max(0, self.engine.findData(s.engine)))
        self._fill_models(s.model)
        self._fill_languages(s.language)
        self.device.setCurrentIndex(max(0, self.device.findData(s.device)))
        self.redo.setChecked(s.redo)
        self.cut.setChecked(s.cut_long is not None)
        if s.cut_long is not None:
            self.cut_seconds.setValue(s.cut_long)
        self._filling = False
        self._show_note()

    def values(self) -> TranscribeSettings:
        model = self.model.currentData()
        return TranscribeSettings(
            engine=str(self.engine.currentData() or ""),
            model=model if isinstance(model, str) and model != OTHER_MODEL else None,
            language=self.language.currentData(),
            device=str(self.device.currentData() or "auto"),
            redo=self.redo.isChecked(),
            cut_long=float(self.cut_seconds.value()) if self.cut.isChecked() else None)

    def _on_engine_changed(self) -> None:
        if self._filling:
            return
        engine = self.engines.engine(self.engine.currentData())
        self._filling = True
        self._fill_models(engine.default_model() if engine else None)
        self._fill_languages(self.language.currentData())
        self._filling = False
        self._show_note()
        self.settings_changed.emit()

    def _fill_models(self, chosen: str | None) -> None:
        engine = self.engines.engine(self.engine.currentData())
        self.model.clear()
        models = engine.models if engine else ()
        for m in models:
            self.model.addItem(m.label(), m.name)
        if engine is not None and engine.takes_folder:
            if is_folder_path(chosen):
                self._add_folder_item(str(chosen))
            self.model.addItem("Model folder…", OTHER_MODEL)
        if self.model.count() == 0:
            self.model.addItem("Built in", None)
        self.model.setEnabled(bool(models))
        self.model.setCurrentIndex(max(0, self.model.findData(chosen)))

    def _add_folder_item(self, folder: str) -> int:
        index = self.model.findData(folder)
        if index < 0:
            other = self.model.findData(OTHER_MODEL)
            index = other if other >= 0 else self.model.count()
            self.model.insertItem(index, Path(folder).name or folder, folder)
            self.model.setItemData(index, folder, Qt.ItemDataRole.ToolTipRole)
        return index

    def _fill_languages(self, chosen: str | None) -> None:
        engine = self.engines.engine(self.engine.currentData())
        self.language.clear()
        for code in engine.language_choices() if engine else [None]:
            self.language.addItem(language_label(code), code)
        index = self.language.findData(chosen) if chosen is not None else 0
        self.language.setCurrentIndex(max(0, index))
        self.language.setEnabled(self.language.count() > 1)

    def pick_model_folder(self) -> str:
        """A folder holding a model ("" if cancelled). Tests replace this."""
        return file_dialogs.open_folder(self, self.app_settings, "transcribe_model",
                                        "A folder holding a transcription model")

    def _on_model_activated(self, index: int) -> None:
        if self.model.itemData(index) != OTHER_MODEL:
            return
        folder = self.pick_model_folder()
        self._filling = True
        if folder:
            self.model.setCurrentIndex(self._add_folder_item(folder))
        else:  # cancelled: the model chosen before
            self.model.setCurrentIndex(max(0, self.model.findData(self._model_before)))
        self._filling = False
        self._on_model_changed()

    def _on_model_changed(self) -> None:
        if self.model.currentData() != OTHER_MODEL:
            self._model_before = self.model.currentData()
        if not self._filling:
            self._show_note()
            self.settings_changed.emit()

    def _show_note(self) -> None:
        self.note.setText(self.note_text())

    def note_text(self) -> str:
        """What the line under the model says about the engine and the chosen model."""
        s = self.values()
        engine = self.engines.engine(s.engine)
        if engine is None:
            return "Asking the backend for its transcription engines…"
        model = engine.model(s.model)
        if is_folder_path(s.model):
            return f"The model in {s.model}."
        if model is not None and not model.installed and model.asset:
            return (f"{model.name} is not installed: Transcribe offers to download it "
                    f"({format_size(model.size)}).")
        if engine.offline and engine.languages is not None:
            langs = ", ".join(map(language_label, engine.languages))
            return f"Works offline, no download; {langs} only."
        if engine.offline:
            return "Works offline, no download."
        return ""


def _engine_tip(engine: EngineInfo) -> str:
    if engine.problem:
        return f"{engine.title} cannot run: {engine.problem}"
    langs = "any language" if engine.languages is None else ", ".join(engine.languages)
    return f"{engine.title}: {langs}" + ("; works with no download" if engine.offline else "")
