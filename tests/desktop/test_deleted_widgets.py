"""Answers and log lines that arrive after their widget was deleted are dropped, not raised
(a request or a log model outlives the window that asked)."""

from __future__ import annotations

from typing import Any

import shiboken6

from backend.protocol import Error
from desktop.components.log_model import LogModel
from desktop.ui.labels_bars import QtReadingPreview
from desktop.ui.log_panel import QtLogPanel


class _Client:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, Any]] = []

    def request(self, cmd: str, args: dict, on_result: Any, on_error: Any) -> None:
        self.calls.append((on_result, on_error))


def test_reading_preview_answer_after_deletion(qtbot) -> None:
    client = _Client()
    preview = QtReadingPreview(client)
    preview.show_row({"text": "Hello there", "language": "en"})
    preview._ask()  # what the debounce timer does
    (on_result, on_error), = client.calls
    shiboken6.delete(preview)
    on_error(Error("1", "backend_crashed", "the backend crashed"))  # raised before
    on_result({"normalized": "hello there", "phonemes": "", "unsupported": []})


def test_log_panel_entry_after_deletion(qtbot) -> None:
    model = LogModel()
    panel = QtLogPanel(model)
    model.add("info", "before", "desktop")
    assert "before" in panel.text.toPlainText()
    shiboken6.delete(panel)
    model.add("error", "after the window went", "backend")  # raised before
