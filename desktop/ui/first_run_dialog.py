"""QtFirstRunDialog: the first-run offer of the model downloads, feature by feature.

Built from an ``assets.list`` result (``first_run.FirstRunPlan``): a check box per
feature with the files it needs and their sizes (a version and rate for training, a
model for Whisper), what already works without a download, "Download selected" and
"Not now". Downloads start through ``download(name)`` — the Assets page's own
``QtAssetsPage.download``, so they are the same ``assets`` jobs, shown in the Jobs
panel and on that page. Installed files are marked and not downloaded again.
Non-blocking: open it with ``open()``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.components.first_run import (
    WORKS_WITHOUT,
    FeatureGroup,
    FirstRunPlan,
    download_summary,
)
from desktop.components.job_handle import JobHandle
from desktop.ui.scrolling import vertical_scroll

Download = Callable[[str], JobHandle]


def _wrapped(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


class QtFirstRunDialog(QDialog):
    def __init__(self, result: dict[str, Any], download: Download,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plan = FirstRunPlan.from_list(result)
        self.download = download
        self.jobs: list[JobHandle] = []
        self.checks: dict[str, QCheckBox] = {}
        self.combos: dict[str, QComboBox] = {}
        self.size_labels: dict[str, QLabel] = {}
        self.file_labels: dict[str, QLabel] = {}
        self.groups = self.plan.groups()
        self.setWindowTitle("Welcome to Timbre Studio: model files")
        self.setObjectName("first_run_dialog")
        self._build()
        self._update()

    def _build(self) -> None:
        intro = _wrapped("Some features need model files that are downloaded once (they are "
                         "kept in your data folder). Choose what to get now; you can get or "
                         "remove them at any time on the Models & assets page, and this "
                         "offer stays in the Help menu (Get models…).")
        content = QWidget()
        column = QVBoxLayout(content)
        for group in self.groups:
            column.addWidget(self._group_box(group))
        extra = QGroupBox("No download needed")
        extra_layout = QVBoxLayout(extra)
        extra_layout.addWidget(_wrapped(WORKS_WITHOUT))
        column.addWidget(extra)
        column.addStretch(1)
        self.summary = _wrapped("")
        self.download_btn = QPushButton("Download selected")
        self.download_btn.setDefault(True)
        self.download_btn.clicked.connect(self._on_download_clicked)
        self.later_btn = QPushButton("Not now")
        self.later_btn.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        buttons.addWidget(self.download_btn)
        buttons.addWidget(self.later_btn)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(vertical_scroll(content, min_height=200), 1)
        layout.addLayout(buttons)
        self.resize(640, 560)

    def _group_box(self, group: FeatureGroup) -> QGroupBox:
        box = QGroupBox()
        layout = QVBoxLayout(box)
        check = QCheckBox(group.title)
        check.setChecked(group.checked_by_default)
        check.toggled.connect(self._update)
        self.checks[group.key] = check
        size = QLabel()
        self.size_labels[group.key] = size
        head = QHBoxLayout()
        head.addWidget(check, 1)
        head.addWidget(size)
        layout.addLayout(head)
        layout.addWidget(_wrapped(group.what))
        if group.choices:
            combo = QComboBox()
            for value, label in group.choices:
                combo.addItem(label, value)
            combo.setCurrentIndex(combo.findData(group.choice))
            combo.currentIndexChanged.connect(self._on_choice_changed)
            self.combos[group.key] = combo
            layout.addWidget(combo)
        files = _wrapped("")
        self.file_labels[group.key] = files
        layout.addWidget(files)
        return box

    # state -----------------------------------------------------------------------------
    def checked(self) -> set[str]:
        return {k for k, c in self.checks.items() if c.isChecked() and c.isEnabled()}

    def _on_choice_changed(self, _index: int) -> None:
        base = self.combos.get("training")
        whisper = self.combos.get("whisper")
        self.groups = self.plan.groups(base.currentData() if base else "",
                                       whisper.currentData() if whisper else "")
        self._update()

    def _update(self) -> None:
        for group in self.groups:
            check = self.checks[group.key]
            check.setEnabled(not group.installed)
            if group.installed:
                check.setChecked(False)
            self.size_labels[group.key].setText(group.size_text())
            self.file_labels[group.key].setText("Files: " + ", ".join(
                f"{i.name} ({i.size_text}{', installed' if i.installed else ''})"
                for i in group.items))
        items = self.plan.to_download(self.groups, self.checked())
        self.summary.setText(download_summary(items))
        self.download_btn.setEnabled(bool(items))

    def selected(self) -> list[str]:
        """The asset names "Download selected" would start, in order."""
        return [i.name for i in self.plan.to_download(self.groups, self.checked())]

    def _on_download_clicked(self) -> None:
        self.jobs = [self.download(name) for name in self.selected()]
        self.accept()
