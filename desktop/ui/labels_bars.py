"""The Labels page's smaller parts: the filters (``QtLabelsFilters``), the search and replace
bar (``QtReplaceBar``) and the current row's reading preview (``QtReadingPreview``, from
``text.preview``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.components.labels_rows import ANY, FLAG_FILTERS, NONE_SET, Filters
from desktop.components.text_check import TextCheck
from desktop.ui.elided_label import QtElidedLabel

ERROR_STYLE = "color: #b00020;"
PREVIEW_DELAY_MS = 300  # the preview is asked this long after the text stops changing


def _combo(min_chars: int = 8) -> QComboBox:
    combo = QComboBox()
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(min_chars)  # long names never widen the column
    return combo


class QtLabelsFilters(QGroupBox):
    """Which rows show: by flag, confidence below a value, language, speaker, text."""

    sig_changed = Signal(object)  # Filters

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Show", parent)
        self.flag = _combo()
        for value, words in FLAG_FILTERS:
            self.flag.addItem(words, value)
        self.below = QDoubleSpinBox()
        self.below.setRange(0.0, 1.0)
        self.below.setSingleStep(0.05)
        self.below.setDecimals(2)
        self.below.setSpecialValueText("any")
        self.below.setToolTip("Only rows whose confidence is below this (0: any confidence; "
                              "rows with no confidence are left out)")
        self.language, self.speaker = _combo(), _combo()
        self.text = QLineEdit()
        self.text.setPlaceholderText("a part of the text")
        self.text.setClearButtonEnabled(True)
        form = QFormLayout(self)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        form.addRow("Rows:", self.flag)
        form.addRow("Confidence below:", self.below)
        form.addRow("Language:", self.language)
        form.addRow("Speaker:", self.speaker)
        form.addRow("Text has:", self.text)
        self.set_choices([], [])
        for signal in (self.flag.currentIndexChanged, self.below.valueChanged,
                       self.language.currentIndexChanged, self.speaker.currentIndexChanged,
                       self.text.textChanged):
            signal.connect(self._emit)

    def set_choices(self, languages: list[str], speakers: list[str]) -> None:
        """The languages and speakers the rows have (the choice made stays)."""
        if (languages, speakers) == getattr(self, "_choices", None):
            return
        self._choices = (list(languages), list(speakers))
        for combo, values in ((self.language, languages), (self.speaker, speakers)):
            chosen = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem("Any", ANY)
            combo.addItem("None set", NONE_SET)
            for value in values:
                combo.addItem(value, value)
            combo.setCurrentIndex(max(0, combo.findData(chosen)) if chosen is not ANY else 0)
            combo.blockSignals(False)

    def filters(self) -> Filters:
        below = self.below.value()
        return Filters(flag=str(self.flag.currentData() or "all"),
                       below=below if below > 0 else None,
                       language=self.language.currentData(),
                       speaker=self.speaker.currentData(), text=self.text.text())

    def _emit(self, *_args: Any) -> None:
        self.sig_changed.emit(self.filters())


class QtReplaceBar(QWidget):
    """Find, Replace, Regex, Match case and Replace (in the rows shown)."""

    sig_replace = Signal(str, str, bool, bool)  # find, replace, regex, case

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.find = QLineEdit()
        self.find.setPlaceholderText("find")
        self.replacement = QLineEdit()
        self.replacement.setPlaceholderText("replace with")
        self.regex = QCheckBox("Regex")
        self.regex.setToolTip("Find is a regular expression (Python's; \\1 in the "
                              "replacement is the first group)")
        self.case = QCheckBox("Match case")
        self.button = QPushButton("Replace")
        self.button.setToolTip("Replace in the text of every row shown (every row when no "
                               "filter is on): one step, undone by one Undo.")
        self.button.clicked.connect(self._replace)
        self.find.returnPressed.connect(self._replace)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.find, 1)
        row.addWidget(self.replacement, 1)
        for w in (self.regex, self.case, self.button):
            row.addWidget(w)

    def _replace(self) -> None:
        self.sig_replace.emit(self.find.text(), self.replacement.text(),
                              self.regex.isChecked(), self.case.isChecked())


def unsupported_text(unsupported: list[dict[str, Any]], frontend: str) -> str:
    """``Cannot read: “½” U+00BD VULGAR FRACTION ONE HALF (character 5); …``."""
    parts = []
    for u in unsupported:
        code = u.get("codepoint")
        code_text = f"U+{code:04X}" if isinstance(code, int) else str(code or "")
        where = u.get("index")
        at = f" (character {where + 1})" if isinstance(where, int) else ""
        parts.append(f"“{u.get('char', '')}” {code_text} {u.get('name') or ''}".strip() + at)
    who = f"the {frontend} front-end" if frontend else "the text front-end"
    return f"{who.capitalize()} cannot read: " + "; ".join(parts) + \
        ". Write them out as words, or remove them."


class QtReadingPreview(QGroupBox):
    """How the current row will be read: ``text.preview {text, language}``."""

    def __init__(self, client: Any, parent: QWidget | None = None) -> None:
        super().__init__("How it will be read", parent)
        self.client = client
        self.normalized = QtElidedLabel(lines=3)
        self.normalized.setObjectName("labels_reads_as")
        self.phonemes = QtElidedLabel(lines=3)
        self.phonemes.setObjectName("labels_phonemes")
        self.unsupported = QtElidedLabel(lines=4)
        self.unsupported.setObjectName("labels_unsupported")
        layout = QVBoxLayout(self)
        for caption, label in (("Reads as:", self.normalized), ("Phonemes:", self.phonemes)):
            layout.addWidget(QLabel(caption))
            layout.addWidget(label)
        layout.addWidget(self.unsupported)
        self._wanted: tuple[str, str | None] | None = None
        self.shown: tuple[str, str | None] | None = None  # what the labels show
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._ask)

    def show_row(self, row: dict[str, Any] | None) -> None:
        """Preview this row's text (asked once it stops changing)."""
        wanted = None if row is None else (str(row.get("text") or ""), row.get("language"))
        if wanted == self._wanted:
            return
        self._wanted = wanted
        if wanted is None or not wanted[0].strip():
            self._timer.stop()
            self._show({"normalized": "", "phonemes": "", "unsupported": []}, wanted)
            return
        self._timer.start(PREVIEW_DELAY_MS)

    def _ask(self) -> None:
        wanted = self._wanted
        if wanted is None:
            return
        args = {"text": wanted[0], "language": wanted[1]}
        self.client.request("text.preview", args,
                            lambda result: self._answered(wanted, result),
                            lambda err: self._failed(wanted, err))

    def _answered(self, wanted: tuple[str, str | None], result: dict[str, Any]) -> None:
        if wanted == self._wanted and shiboken6.isValid(self):
            self._show(result, wanted)

    def _failed(self, wanted: tuple[str, str | None], err: Any) -> None:
        # the answer may come after the page was deleted (the request outlives it)
        if wanted == self._wanted and shiboken6.isValid(self):
            self.normalized.setText("")
            self.phonemes.setText("")
            self.unsupported.setStyleSheet(ERROR_STYLE)
            self.unsupported.setText(f"No reading preview: {getattr(err, 'message', err)}")
            self.shown = wanted

    def _show(self, result: dict[str, Any], wanted: tuple[str, str | None] | None) -> None:
        self.normalized.setText(str(result.get("normalized") or ""))
        self.phonemes.setText(str(result.get("phonemes") or ""))
        bad = [u for u in result.get("unsupported") or [] if isinstance(u, dict)]
        frontend = str(result.get("frontend") or "")
        self.unsupported.setStyleSheet(ERROR_STYLE if bad else "")
        self.unsupported.setText(unsupported_text(bad, frontend) if bad else
                                 (f"Every character can be read ({frontend})." if frontend
                                  and wanted else ""))
        self.shown = wanted



class QtTextCheck(QWidget):
    """Check every row's text with its front-end (``text.check``) and visit the rows it
    cannot read; ``sig_goto`` asks the page to make a row current."""

    sig_goto = Signal(str)

    def __init__(self, client: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.project: str | None = None
        self.result = TextCheck()
        self.check_btn = QPushButton("Check texts")
        self.check_btn.setToolTip("Read every row's text with its language's front-end and "
                                  "list the characters it cannot read (before training "
                                  "text-to-speech, these must be written out or removed)")
        self.next_btn = QPushButton("Next problem")
        self.next_btn.setToolTip("Go to the next row shown whose text cannot be read")
        self.next_btn.setEnabled(False)
        self.message = QtElidedLabel(lines=4)
        self.message.setObjectName("labels_text_check")
        self.check_btn.clicked.connect(self.check)
        self.next_btn.clicked.connect(self._on_next_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(self.check_btn)
        buttons.addWidget(self.next_btn)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        # the page says which row is current and which rows are shown, in order
        self.where: Callable[[], tuple[str | None, list[str]]] = lambda: (None, [])

    def set_project(self, path: str | None) -> None:
        if path != self.project:
            self.project, self.result = path, TextCheck()
            self.message.setText("")
            self.next_btn.setEnabled(False)
        self.check_btn.setEnabled(path is not None)

    def check(self) -> None:
        if self.project is None:
            return
        project = self.project
        self.check_btn.setEnabled(False)
        self.message.setStyleSheet("")
        self.message.setText("Checking every text…")
        self.client.request("text.check", {"project": project},
                            lambda result: self._answered(project, result),
                            lambda err: self._failed(project, err))

    def _answered(self, project: str, result: dict[str, Any]) -> None:
        if project != self.project:
            return
        self.result = TextCheck.from_result(result)
        self.check_btn.setEnabled(True)
        self.message.setStyleSheet(ERROR_STYLE if self.result.error else "")
        self.message.setText(self.result.text)
        self.next_btn.setEnabled(bool(self.result.ids))

    def _failed(self, project: str, err: Any) -> None:
        if project == self.project:
            self.check_btn.setEnabled(True)
            self.message.setStyleSheet(ERROR_STYLE)
            self.message.setText(f"The texts were not checked: {getattr(err, 'message', err)}")

    def _on_next_clicked(self) -> None:
        rid = self.result.next_after(*self.where())
        if rid is None:
            self.message.setText(self.result.text + " The rows left are hidden by the "
                                 "filters: show all rows to visit them.")
        else:
            self.sig_goto.emit(rid)
