"""QtTrainBases: the pretrained bases the health report recommends, on the Train page.

When ``train.suggest`` recommends fine-tuning from pretrained bases, the page's form is
pre-filled with the installed ones. For a base that is missing (and whose field is
empty) this row says so plainly and offers the asset dialog ("Get the pretrained
bases…": download, import, or use another file); Start asks before training from
scratch (``confirm_start``), so training never silently starts without the bases. A run
that resumes from its checkpoint does not use bases, so nothing is said then.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backend.protocol import Error
from desktop.backend_client import BackendClient
from desktop.components.assets import missing_from_list
from desktop.components.settings import AppSettings
from desktop.components.train_settings import TrainSuggestion
from desktop.ui.asset_missing_dialog import QtAssetMissingDialog
from desktop.ui.elided_label import QtElidedLabel
from desktop.ui.train_form import QtTrainSettingsForm

GET, SCRATCH, CANCEL = "get", "scratch", "cancel"


class QtTrainBases(QWidget):
    sig_installed = Signal()  # a base was installed or a file chosen: ask train.suggest again

    def __init__(self, client: BackendClient, form: QtTrainSettingsForm,
                 settings: AppSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client, self.form, self.app_settings = client, form, settings
        self.suggestion: TrainSuggestion | None = None
        self.resuming = False
        self.dialog: QtAssetMissingDialog | None = None
        self.ask_scratch: Callable[[str], str] = self._ask_scratch  # tests replace it
        self._chain = False  # a dialog was accepted: offer the next missing base
        self._installed: dict[str, str | None] = {}  # the bases of the last suggestion
        self.label = QtElidedLabel(lines=4)  # the whole text in its tooltip when cut
        self.label.setObjectName("train_bases")
        self.label.setStyleSheet("color: #8a5a00;")
        self.get_btn = QPushButton("Get the pretrained bases…")
        self.get_btn.clicked.connect(self.get_bases)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.get_btn)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addLayout(row)
        form.settings_changed.connect(self.update_view)
        self.update_view()

    def field(self, part: str) -> QLineEdit:
        return self.form.pretrained_g if part == "g" else self.form.pretrained_d

    def unfilled(self) -> dict[str, str]:
        """Part -> asset of the recommended bases that are missing and not replaced by a
        file in the form (empty while resuming a run)."""
        if self.suggestion is None or self.resuming:
            return {}
        return {part: asset for part, asset in self.suggestion.missing_bases().items()
                if not self.field(part).text().strip()}

    def set_suggestion(self, suggestion: TrainSuggestion | None, resuming: bool) -> None:
        """A new ``train.suggest`` answer: fill the empty field of a base installed since
        the last one (a field the user cleared stays empty)."""
        before = self._installed if suggestion is not None else {}
        self.suggestion, self.resuming = suggestion, resuming
        self._installed = dict(suggestion.bases) if suggestion is not None else {}
        if suggestion is not None and not resuming:
            for part, path in suggestion.bases.items():
                new = path and not before.get(part) and part in before
                if new and part in ("g", "d") and not self.field(part).text().strip():
                    self.field(part).setText(path)
        self.update_view()
        if self._chain and self.unfilled():
            self._chain = False
            self.get_bases()  # the next missing base

    def update_view(self) -> None:
        missing = self.unfilled()
        text = self.suggestion.bases_text() if missing and self.suggestion else ""
        self.label.setText(text)
        self.setVisible(bool(text))

    # start ---------------------------------------------------------------------------------
    def confirm_start(self) -> bool:
        """True when training may start: no recommended base is missing, or the user
        chose to train from scratch."""
        missing = self.unfilled()
        if not missing or self.suggestion is None:
            return True
        answer = self.ask_scratch(self.suggestion.bases_text())
        if answer == GET:
            self.get_bases()
        return answer == SCRATCH

    def _ask_scratch(self, text: str) -> str:
        box = QMessageBox(QMessageBox.Icon.Question, "Train without the pretrained bases?",
                          text, QMessageBox.StandardButton.NoButton, self)
        get = box.addButton("Get the bases…", QMessageBox.ButtonRole.AcceptRole)
        scratch = box.addButton("Train from scratch", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        return GET if clicked is get else SCRATCH if clicked is scratch else CANCEL

    # getting them ------------------------------------------------------------------------
    def get_bases(self) -> str | None:
        """Ask ``assets.list`` for the missing bases' sizes, then open the asset dialog."""
        missing = self.unfilled()
        if not missing:
            return None
        return self.client.request("assets.list", {},
                                   lambda r: self._on_assets_listed(r, missing),
                                   self._on_assets_error)

    def _on_assets_listed(self, result: dict, missing: dict[str, str]) -> None:
        rows = missing_from_list(result, list(missing.values()))
        if not rows:  # installed meanwhile
            self.sig_installed.emit()
            return
        part = next(p for p, a in missing.items() if a == rows[0].name)
        if self.dialog is not None:
            self.dialog.deleteLater()
        dialog = QtAssetMissingDialog(
            self.client, rows[0], retry_text="Use it", also_missing=rows[1:],
            use_file=self.field(part).setText, use_file_purpose="pretrained",
            settings=self.app_settings, parent=self)
        dialog.accepted.connect(self._on_dialog_accepted)
        self.dialog = dialog
        dialog.open()

    def _on_dialog_accepted(self) -> None:
        self._chain = True
        self.sig_installed.emit()

    def _on_assets_error(self, err: Error) -> None:
        self.label.setText(f"Could not check the model files: {err.message}")
        self.setVisible(True)
