"""QtTrainSettingsForm: the Train page's settings, a view of ``TrainSettings``.

The model kind (voice conversion / text-to-speech) comes first; the language and the
duration predictor rows are shown for text-to-speech only, and the size names and the
pretrained fields' tooltips follow the kind. Changing the kind emits ``kind_changed``
(the page then shows that kind's suggestion and runs).
Each field has a red message line under it, filled from ``TrainSettings.validate``.
Integer fields accept 0 so that a wrong value gets a message instead of being
silently clamped; the learning rate is typed as text (``1e-4``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from desktop.components.settings import AppSettings
from desktop.components.train_kind import (
    DURATION_LABELS,
    DURATION_TIP,
    KIND_HINTS,
    KIND_LABELS,
    PRETRAINED_TIPS,
    RVC,
    SIZE_LABELS,
    VITS,
    kind_of,
    language_choices,
    language_name,
)
from desktop.components.train_settings import PRECISIONS, TrainSettings
from desktop.ui import file_dialogs
from desktop.ui.job_widgets import offer_cuda

WEIGHTS_FILTER = "PyTorch weights (*.pth *.pt *.safetensors);;All files (*)"
DEVICE_LABELS = {"auto": "Automatic (GPU if there is one)", "cpu": "CPU", "cuda": "CUDA GPU"}
LANGUAGE_TIP = ("The language of the texts the model learns to read. The clips of other "
                "languages are left out; a text its front-end cannot read stops the start "
                "with the clip and the table line named.")
TENSORBOARD_TIP = ("Also write the metrics as TensorBoard event files to train/<run>/tensorboard/"
                   " (view with: tensorboard --logdir <project>/train). Needs the optional "
                   "extra: pip install 'timbre-studio[tensorboard]'")


def _spin(lo: int, hi: int, suffix: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setSuffix(suffix)
    return box


def _combo(items: dict[str, str]) -> QComboBox:
    combo = QComboBox()  # as narrow as 12 characters: a long item never widens the column
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(12)
    for value, label in items.items():
        combo.addItem(label, value)
    return combo


class QtTrainSettingsForm(QGroupBox):
    settings_changed = Signal()
    kind_changed = Signal(str)  # the user picked the other model kind

    def __init__(self, settings: AppSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__("Training settings", parent)
        self.app_settings = settings
        self._cuda = True
        self.epochs = _spin(0, 1_000_000)
        self.batch_size = _spin(0, 100_000)
        self.learning_rate = QLineEdit()
        self.learning_rate.setPlaceholderText("e.g. 1e-4")
        self.save_every = _spin(0, 1_000_000, " epochs")
        self.keep_last = _spin(0, 100_000, " checkpoints")
        self.keep_last.setSpecialValueText("keep all")
        self.model_kind = _combo(KIND_LABELS)
        for kind, hint in KIND_HINTS.items():
            self.model_kind.setItemData(self.model_kind.findData(kind), hint,
                                        Qt.ItemDataRole.ToolTipRole)
        self.model_size = _combo(SIZE_LABELS[RVC])
        self.language = _combo(language_choices())
        self.language.setToolTip(LANGUAGE_TIP)
        self.duration = _combo(DURATION_LABELS)
        self.duration.setToolTip(DURATION_TIP)
        self.device = _combo(DEVICE_LABELS)
        self.precision = _combo({p: p for p in PRECISIONS})
        self.pretrained_g, g_row = self._path_row("Pretrained generator (G)")
        self.pretrained_d, d_row = self._path_row("Pretrained discriminator (D)")
        self.tensorboard = QCheckBox("Write TensorBoard logs")
        self.tensorboard.setToolTip(TENSORBOARD_TIP)
        self.errors: dict[str, QLabel] = {}
        self.rows = QFormLayout(self)
        self._add_rows((
            ("model", "Model:", self.model_kind), ("language", "Language:", self.language),
            ("duration", "Duration:", self.duration), ("epochs", "Epochs:", self.epochs),
            ("batch_size", "Batch size:", self.batch_size),
            ("learning_rate", "Learning rate:", self.learning_rate),
            ("save_every", "Save every:", self.save_every),
            ("keep_last", "Keep last:", self.keep_last), ("size", "Model size:", self.model_size),
            ("device", "Device:", self.device), ("precision", "Precision:", self.precision),
            ("pretrained_g", "Pretrained G:", g_row), ("pretrained_d", "Pretrained D:", d_row),
            ("tensorboard", "Logging:", self.tensorboard)))
        self._connect()
        self._run = "main"
        self.set_values(TrainSettings())

    def _add_rows(self, rows: tuple[tuple[str, str, QWidget], ...]) -> None:
        """Each field, and under it its red message line (hidden while it has none)."""
        for name, label, widget in rows:
            self.rows.addRow(label, widget)
            error = QLabel()
            error.setObjectName(f"error_{name}")
            error.setStyleSheet("color: #b00020;")
            error.setWordWrap(True)
            error.setVisible(False)
            self.rows.addRow("", error)
            self.errors[name] = error

    def _connect(self) -> None:
        for spin in (self.epochs, self.batch_size, self.save_every, self.keep_last):
            spin.valueChanged.connect(self.settings_changed)
        for edit in (self.learning_rate, self.pretrained_g, self.pretrained_d):
            edit.textChanged.connect(self.settings_changed)
        for combo in (self.model_size, self.device, self.precision, self.language,
                      self.duration):
            combo.currentIndexChanged.connect(self.settings_changed)
        self.model_kind.currentIndexChanged.connect(self._on_model_kind_changed)
        self.tensorboard.toggled.connect(self.settings_changed)

    @property
    def kind(self) -> str:
        return kind_of(self.model_kind.currentData())

    def _on_model_kind_changed(self, _index: int) -> None:
        self._show_kind()
        if not self.signalsBlocked():
            self.kind_changed.emit(self.kind)
            self.settings_changed.emit()

    def _show_kind(self) -> None:
        """The text-to-speech rows, the size names and the pretrained tooltips of the kind."""
        kind = self.kind
        tts = kind == VITS
        for widget in (self.language, self.duration):
            self.rows.setRowVisible(widget, tts)
        for value, label in SIZE_LABELS[kind].items():
            self.model_size.setItemText(self.model_size.findData(value), label)
        self.model_kind.setToolTip(KIND_HINTS[kind])
        for edit in (self.pretrained_g, self.pretrained_d):
            edit.setToolTip(PRETRAINED_TIPS[kind])

    def set_languages(self, found: list[str], default: str = "") -> None:
        """The Language choices: from the labels (naming ``default``), the labels'
        languages, the others the backend reads; the current choice stays."""
        current = str(self.language.currentData() or "")
        blocked = self.language.blockSignals(True)
        self.language.clear()
        for value, label in language_choices(found, default).items():
            self.language.addItem(label, value)
        self._select_language(current)
        self.language.blockSignals(blocked)

    def _select_language(self, code: str) -> None:
        if self.language.findData(code) < 0:  # a run's language the list lacks
            self.language.addItem(language_name(code), code)
        self.language.setCurrentIndex(self.language.findData(code))

    def _path_row(self, title: str) -> tuple[QLineEdit, QWidget]:
        edit = QLineEdit()
        edit.setPlaceholderText("none: train from scratch")
        pick = QPushButton("Choose…")
        pick.clicked.connect(lambda: self._on_pick_clicked(edit, title))
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(edit, 1)
        layout.addWidget(pick)
        return edit, row

    def _on_pick_clicked(self, edit: QLineEdit, title: str) -> None:
        typed = edit.text().strip()
        path = file_dialogs.open_file(self, self.app_settings, "pretrained", title,
                                      WEIGHTS_FILTER, str(Path(typed).parent) if typed else None)
        if path:
            edit.setText(path)

    # values ---------------------------------------------------------------------------
    def set_values(self, s: TrainSettings) -> None:
        self.blockSignals(True)
        self.epochs.setValue(s.epochs)
        self.batch_size.setValue(s.batch_size)
        self.learning_rate.setText(s.learning_rate)
        self.save_every.setValue(s.save_every)
        self.keep_last.setValue(s.keep_last)
        for combo, value in ((self.model_kind, s.model), (self.model_size, s.size),
                             (self.device, s.device), (self.precision, s.precision),
                             (self.duration, s.duration)):
            combo.setCurrentIndex(max(0, combo.findData(value)))
        self._select_language(s.language)
        self._show_kind()
        self.pretrained_g.setText(s.pretrained_g)
        self.pretrained_d.setText(s.pretrained_d)
        self.tensorboard.setChecked(s.tensorboard)
        self._run = s.run
        self.blockSignals(False)
        self.settings_changed.emit()

    def values(self) -> TrainSettings:
        return TrainSettings(
            epochs=self.epochs.value(), batch_size=self.batch_size.value(),
            learning_rate=self.learning_rate.text(), save_every=self.save_every.value(),
            keep_last=self.keep_last.value(), size=str(self.model_size.currentData()),
            device=str(self.device.currentData()), precision=str(self.precision.currentData()),
            pretrained_g=self.pretrained_g.text(), pretrained_d=self.pretrained_d.text(),
            tensorboard=self.tensorboard.isChecked(), run=self._run, model=self.kind,
            language=str(self.language.currentData() or ""),
            duration=str(self.duration.currentData()))

    def set_cuda_available(self, available: bool) -> None:
        """Disable the CUDA choice when the backend reported no CUDA device."""
        self._cuda = available
        offer_cuda(self.device, available)

    @property
    def cuda_available(self) -> bool:
        return self._cuda

    def show_problems(self, problems: dict[str, str]) -> None:
        for name, label in self.errors.items():
            label.setText(problems.get(name, ""))
            label.setVisible(name in problems)
