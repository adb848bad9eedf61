"""QtExtractPage: pitch (F0) and content features for every prepared clip of the project.

The form maps to the ``extract`` job (``desktop.components.extract_settings``). The
settings of the last extraction started are kept in the project (``project.extract_settings``)
and shown again when it is opened. Before a start the page asks ``assets.list`` whether
the chosen pitch method and content encoder have their model files; if not, or when the
backend answers ``asset_missing`` (a refused start or a failed job),
``QtAssetMissingDialog`` offers to download or import the file (or, for a content
encoder, to use a file of the user's) and then to retry.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from backend.protocol import Error, Hello
from desktop.backend_client import BackendClient
from desktop.components.assets import (
    MissingAsset,
    missing_from_job,
    missing_from_list,
)
from desktop.components.extract_settings import (
    DEVICES,
    ENCODER_ASSETS,
    ENCODERS,
    FILTER_RADIUS_RANGE,
    OTHER_ENCODER,
    PITCH_METHODS,
    VERSIONS,
    ExtractSettings,
    cuda_available,
    method,
    progress_text,
    summary_text,
)
from desktop.components.job_handle import JobHandle
from desktop.components.project_state import ProjectState
from desktop.components.settings import AppSettings
from desktop.ui import file_dialogs
from desktop.ui.asset_missing_dialog import QtAssetMissingDialog
from desktop.ui.elided_label import QtElidedLabel
from desktop.ui.job_widgets import offer_cuda, show_fraction
from desktop.ui.project_controller import ProjectController

INTRO = "Extract pitch and content features from the prepared clips."
ENCODER_ASSET_NAMES = {n for names in ENCODER_ASSETS.values() for n in names}


class QtExtractForm(QGroupBox):
    """The settings form; ``values()`` / ``set_values()`` as ``ExtractSettings``."""

    settings_changed = Signal()

    def __init__(self, settings: AppSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__("Extraction settings", parent)
        self.app_settings = settings
        self.user_chose_pitch = False
        self.pitch = QComboBox()
        for m in PITCH_METHODS:
            self.pitch.addItem(m.label, m.name)
            self.pitch.setItemData(self.pitch.count() - 1, m.description,
                                   Qt.ItemDataRole.ToolTipRole)
        self.pitch_help = QLabel()
        self.pitch_help.setWordWrap(True)
        self.encoder = QComboBox()
        for name, label in ENCODERS:
            self.encoder.addItem(label, name)
        self.encoder.addItem("Other file…", OTHER_ENCODER)
        self.version = QComboBox()
        for v in VERSIONS:
            self.version.addItem(v, v)
        self.device = QComboBox()
        for d in DEVICES:
            self.device.addItem({"auto": "Automatic", "cpu": "CPU", "cuda": "GPU (CUDA)"}[d], d)
        self.filter_radius = QSpinBox()
        self.filter_radius.setRange(*FILTER_RADIUS_RANGE)
        self.filter_radius.setToolTip("Harvest only, as in RVC: 3 or more runs a 3-frame "
                                      "median that removes single-frame glitches; 0-2 "
                                      "turns it off. Other methods are left as they are.")
        self.pitch.currentIndexChanged.connect(self._on_pitch_changed)
        self.pitch.activated.connect(self._on_pitch_activated)
        self.encoder.activated.connect(self._on_encoder_activated)
        for combo in (self.pitch, self.encoder, self.version, self.device):
            combo.currentIndexChanged.connect(self.settings_changed)
        self.filter_radius.valueChanged.connect(self.settings_changed)
        form = QFormLayout(self)
        form.addRow("Pitch method:", self.pitch)
        form.addRow("", self.pitch_help)
        form.addRow("Content encoder:", self.encoder)
        form.addRow("Model version:", self.version)
        form.addRow("Device:", self.device)
        form.addRow("Filter radius:", self.filter_radius)
        self.set_values(ExtractSettings())

    def pick_encoder_file(self) -> str:
        """A content-encoder file chosen by the user ("" if cancelled). Tests replace this."""
        return file_dialogs.open_file(self, self.app_settings, "encoder", "Content encoder file",
                                      "Model files (*.pt *.pth *.bin *.safetensors);;All (*)")

    def use_encoder_file(self, path: str) -> None:
        """Use a file of the user's as the content encoder (as "Other file…" does)."""
        self._set_encoder(path)

    def _on_pitch_changed(self) -> None:
        m = method(str(self.pitch.currentData()))
        self.pitch_help.setText(m.description if m else "")

    def _on_pitch_activated(self, _index: int) -> None:
        self.user_chose_pitch = True

    def _on_encoder_activated(self, index: int) -> None:
        if self.encoder.itemData(index) != OTHER_ENCODER:
            return
        path = self.pick_encoder_file()
        if path:
            self._set_encoder(path)
        else:
            self.encoder.setCurrentIndex(0)

    def _set_encoder(self, value: str) -> None:
        index = self.encoder.findData(value)
        if index < 0:  # a file path: shown before "Other file…"
            index = self.encoder.count() - 1
            self.encoder.insertItem(index, Path(value).name, value)
            self.encoder.setItemData(index, value, Qt.ItemDataRole.ToolTipRole)
        self.encoder.setCurrentIndex(index)

    def set_cuda(self, available: bool) -> None:
        offer_cuda(self.device, available)

    def set_values(self, s: ExtractSettings) -> None:
        self.pitch.setCurrentIndex(max(0, self.pitch.findData(s.f0)))
        self._on_pitch_changed()
        self._set_encoder(s.encoder)
        self.version.setCurrentIndex(max(0, self.version.findData(s.version)))
        self.device.setCurrentIndex(max(0, self.device.findData(s.device)))
        self.filter_radius.setValue(s.filter_radius)

    def values(self) -> ExtractSettings:
        return ExtractSettings(f0=str(self.pitch.currentData()),
                               encoder=str(self.encoder.currentData()),
                               version=str(self.version.currentData()),
                               device=str(self.device.currentData()),
                               filter_radius=self.filter_radius.value())


class QtExtractPage(QWidget):
    def __init__(self, client: BackendClient, controller: ProjectController,
                 settings: AppSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client, self.controller, self.app_settings = client, controller, settings
        self.job: JobHandle | None = None  # the extraction this page follows
        self.checking = False  # the preflight assets.list is on its way
        self.missing_dialog: QtAssetMissingDialog | None = None
        self.installed: set[str] | None = None
        self._shown_path: str | None = None
        self._needs: str | None = None  # the missing asset the message names
        self._build()
        controller.project_changed.connect(self.set_project)
        client.sig_hello.connect(self._on_client_hello)
        self.form.set_cuda(cuda_available(client.hello))
        self.set_project(controller.state)

    def _build(self) -> None:
        self.project_label = QtElidedLabel(elide=Qt.TextElideMode.ElideMiddle)
        self.form = QtExtractForm(self.app_settings)
        self.form.settings_changed.connect(self._on_form_changed)
        self.start_btn = QPushButton("Start")
        self.cancel_btn = QPushButton("Cancel")
        self.start_btn.clicked.connect(self.start)
        self.cancel_btn.clicked.connect(self.cancel)
        self.cancel_btn.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_btn)
        buttons.addWidget(self.cancel_btn)
        buttons.addStretch(1)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setVisible(False)
        self.message = QtElidedLabel(INTRO, lines=3)
        self.summary = QPlainTextEdit()
        self.summary.setReadOnly(True)
        self.summary.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.project_label)
        layout.addWidget(self.form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addWidget(self.summary, 4)
        layout.addStretch(1)  # keeps the form at the top while there is no summary

    # project, backend --------------------------------------------------------------------
    def set_project(self, state: ProjectState | None) -> None:
        self.project_label.setText(f"{state.name} — {state.path}" if state else
                                   "No project open")
        if state is not None and state.path != self._shown_path:
            stored = ExtractSettings.stored(state.project)
            self.form.set_values(stored or ExtractSettings.defaults(state.project,
                                                                    self.installed))
            self.form.user_chose_pitch = stored is not None  # assets.list leaves it alone
            self.form.set_cuda(cuda_available(self.client.hello))
            note = state.summary.get("pitch_note")  # features made under older pitch rules
            self._say(note if isinstance(note, str) and note else INTRO)
        self._shown_path = state.path if state else None
        self._update_buttons()

    @property
    def busy(self) -> bool:
        """Checking the model files, or an extraction is requested or running."""
        return self.checking or (self.job is not None and self.job.active)

    def _update_buttons(self) -> None:
        running = self.busy
        self.start_btn.setEnabled(self.controller.state is not None and not running)
        job = self.job
        self.cancel_btn.setEnabled(job is not None and job.active and not job.cancel_requested)
        self.form.setEnabled(not running)

    def _on_client_hello(self, hello: Hello) -> None:
        self.form.set_cuda(cuda_available(hello))

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self.installed is None:
            self.load_assets()

    def load_assets(self) -> str:
        """``assets.list``: which model files exist (the default pitch method depends on it)."""
        self.installed = set()
        return self.client.request("assets.list", {}, self._on_assets_listed)

    def _on_assets_listed(self, result: dict) -> None:
        self.installed = {str(a.get("name")) for a in result.get("assets") or []
                          if isinstance(a, dict) and a.get("installed")}
        if not self.form.user_chose_pitch and not self.busy:
            default = "rmvpe" if "rmvpe" in self.installed else "harvest"
            self.form.pitch.setCurrentIndex(self.form.pitch.findData(default))

    # start --------------------------------------------------------------------------------
    def _say(self, text: str) -> None:
        self._needs = None  # a new message replaces the "needs" one
        self.message.setText(text)

    def start(self) -> str | None:
        """Check the form, then ``assets.list`` (preflight), then start the ``extract`` job."""
        state = self.controller.state
        if state is None:
            self._say("Open a project first.")
            return None
        if self.busy:
            return None
        settings = self.form.values()
        problems = settings.validate(cuda_available(self.client.hello))
        if problems:
            self._say("Cannot start: " + "; ".join(problems))
            return None
        self.checking = True
        self._update_buttons()
        self._say("Checking the model files…")
        self._store_settings(state, settings)
        return self.client.request(
            "assets.list", {}, lambda r: self._on_preflight(r, settings, state.path),
            self._on_preflight_error)

    def _on_preflight(self, result: dict, settings: ExtractSettings, project: str) -> None:
        self._on_assets_listed(result)
        self.checking = False
        missing = missing_from_list(result, settings.assets_needed())
        if missing:
            self._end_job()
            self.show_missing(missing[0], missing[1:])
            return
        self._say("Starting extraction…")
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.summary.setVisible(False)
        self.job = self.client.start_job("extract", settings.to_job_args(project))
        self.job.subscribe(self._on_job_changed)
        self._update_buttons()

    def _store_settings(self, state: ProjectState, settings: ExtractSettings) -> None:
        """Keep the settings in the project, so they are there when it is opened again
        (a failure is only logged: the extraction does not depend on it)."""
        stored = settings.to_stored()
        if state.project.get("extract") != stored:
            state.project["extract"] = stored
            self.client.request("project.extract_settings",
                                {"path": state.path, "settings": stored})

    def _on_form_changed(self) -> None:
        """A "needs X" message goes once the settings no longer need X."""
        if self._needs is not None and self._needs not in self.form.values().assets_needed():
            self._needs = None
            self._say(INTRO)

    def _on_asset_installed(self, name: str) -> None:
        if self._needs == name:
            self._needs = None
            self._say(f"{name} is installed.")

    def _on_preflight_error(self, err: Error) -> None:
        self.checking = False
        self._end_job()
        self._say(f"Could not check the model files: {err.message}")

    def show_missing(self, missing: MissingAsset, also: list[MissingAsset] | None = None,
                     ) -> QtAssetMissingDialog:
        """The asset-missing dialog; its Retry starts the extraction again."""
        if self.missing_dialog is not None:
            self.missing_dialog.deleteLater()
        encoder = missing.name in ENCODER_ASSET_NAMES
        dialog = QtAssetMissingDialog(
            self.client, missing, retry_text="Retry extraction", also_missing=also,
            use_file=self.form.use_encoder_file if encoder else None,
            use_file_purpose="encoder", settings=self.app_settings, parent=self)
        dialog.accepted.connect(self.start)
        dialog.sig_installed.connect(self._on_asset_installed)
        self.missing_dialog = dialog
        self._say(f"Extraction needs {missing.name}, which is not installed.")
        self._needs = missing.name
        dialog.open()
        return dialog

    # job ------------------------------------------------------------------------------
    def cancel(self) -> None:
        if self.job is not None and self.job.active:
            self.client.cancel_job(self.job)
            self._update_buttons()
            self._say("Cancelling…")

    def _on_job_changed(self, job: JobHandle, event: str, _data: dict) -> None:
        if job is not self.job:
            return
        if job.finished:
            self._on_job_finished(job)
        elif event in ("job.started", "job.progress"):
            self._update_buttons()
            self._show_progress(job)

    def _show_progress(self, job: JobHandle) -> None:
        show_fraction(self.progress, job.fraction)
        text = progress_text(job.stage, job.done, job.total, job.eta_text())
        self.progress.setFormat(text.replace("%", "%%") + " (%p%)")
        if not job.cancel_requested:
            self._say(text)

    def _end_job(self) -> None:
        self.progress.setVisible(False)
        self._update_buttons()

    def _on_job_finished(self, job: JobHandle) -> None:
        self._end_job()
        missing = missing_from_job(job)
        if missing is not None:
            self.show_missing(missing)
        elif job.state == "ok":
            self._say("Extraction finished.")
            self.summary.setPlainText(summary_text(job.result))
            self.summary.setVisible(True)
        elif job.state == "cancelled":
            self._say("Extraction cancelled.")
        elif job.refused:
            self._say(f"Could not start the extraction: {job.error_message}")
        else:
            self._say(f"Extraction failed: {job.error_message}")
