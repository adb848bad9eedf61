"""The Labels page's project-wide text check: the Qt-free summary and the next unreadable
row (on the real front-ends' answer), and the widget on a client that answers with it."""

from __future__ import annotations

from typing import Any

from backend.text.check import check_rows
from desktop.components.text_check import TextCheck
from desktop.ui.labels_bars import QtTextCheck

ROWS = [
    {"id": "r1", "text": "Hello there.", "language": "en"},
    {"id": "r2", "text": "I paid 5 dollars 😀 today", "language": "en"},
    {"id": "r3", "text": "Fine.", "language": "en"},
    {"id": "r4", "text": "It says 猫 here", "language": "en"},
    {"id": "r5", "text": "", "language": "en"},  # not transcribed: not checked
]


def real_result() -> dict[str, Any]:
    return check_rows(ROWS)


def test_summary_names_each_character_and_row() -> None:
    check = TextCheck.from_result(real_result())
    assert check.ids == ["r2", "r4"] and check.error
    assert check.text.startswith("2 of 4 texts hold what their front-end cannot read")
    assert "row r2: “😀” U+1F600 GRINNING FACE at character 18" in check.text
    assert "row r4:" in check.text and "U+732B" in check.text
    assert "5" not in check.text.split("row r2")[1].split("·")[0].replace("U+1F600", "") \
        .replace("18", "")  # digits are read out: only the emoji is named
    ok = TextCheck.from_result(check_rows([ROWS[0], ROWS[2]]))
    assert ok.text == "All 2 texts can be read." and not ok.ids and not ok.error


def test_next_unreadable_wraps_round_the_rows_shown() -> None:
    check = TextCheck.from_result(real_result())
    view = ["r1", "r2", "r3", "r4", "r5"]
    assert check.next_after(None, view) == "r2"
    assert check.next_after("r2", view) == "r4"
    assert check.next_after("r4", view) == "r2"  # round again
    assert check.next_after("r1", ["r1", "r3"]) is None  # both hidden by a filter


class AnsweringClient:
    """Answers ``text.check`` with the real check of ROWS (the transport is all it fakes)."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, dict[str, Any]]] = []

    def request(self, cmd: str, args: dict[str, Any], ok: Any, err: Any) -> None:
        self.asked.append((cmd, args))
        ok(real_result())


def test_widget_checks_then_visits_each_unreadable_row(qtbot) -> None:
    client = AnsweringClient()
    widget = QtTextCheck(client)
    qtbot.addWidget(widget)
    assert not widget.next_btn.isEnabled()
    widget.set_project("/p/my voice ü")
    widget.where = lambda: ("r2", ["r1", "r2", "r3", "r4"])
    widget.check_btn.click()
    assert client.asked == [("text.check", {"project": "/p/my voice ü"})]
    assert "GRINNING FACE" in widget.message.text() and widget.next_btn.isEnabled()
    with qtbot.waitSignal(widget.sig_goto) as seen:
        widget.next_btn.click()
    assert seen.args == ["r4"]
    widget.where = lambda: (None, ["r1", "r3"])
    widget.next_btn.click()
    assert "hidden by the filters" in widget.message.text()
    widget.set_project("/p/other")
    assert widget.message.text() == "" and not widget.next_btn.isEnabled()
