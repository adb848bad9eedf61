"""QtElidedLabel: size hints independent of the text; eliding, wrapping, the text as tooltip."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from desktop.ui.elided_label import QtElidedLabel

PATH = "/home/someone/" + "a_folder_name_without_any_space_" * 4 + "take.wav"
LONG = ("Could not read " + PATH + ": the file ends in the middle of a frame; export it "
        "again from your editor. ") * 2


def _row(qtbot, label: QtElidedLabel, width: int = 260) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.addWidget(label, 1)
    layout.addWidget(QPushButton("Retry"))
    qtbot.addWidget(row)
    row.resize(width, 120)
    row.show()
    qtbot.waitExposed(row)
    return row


def test_size_hints_do_not_depend_on_the_text(qtbot) -> None:
    for lines in (1, 3):
        short, long = QtElidedLabel("ok", lines=lines), QtElidedLabel(LONG, lines=lines)
        assert short.minimumSizeHint() == long.minimumSizeHint()
        assert short.sizeHint().width() == long.sizeHint().width()
    row = _row(qtbot, label := QtElidedLabel("short"))
    before = row.minimumSizeHint()
    label.setText(LONG)
    assert row.minimumSizeHint() == before  # a long message never widens the row


def test_a_long_line_is_elided_with_the_whole_text_as_tooltip(qtbot) -> None:
    label = QtElidedLabel("", elide=Qt.TextElideMode.ElideMiddle)
    label.setToolTip("where the model files are")
    row = _row(qtbot, label)
    assert label.width() < row.width()  # the Retry button keeps its room
    label.setText("short")
    assert not label.is_elided() and label.toolTip() == "where the model files are"
    label.setText(LONG)
    shown = label.shown_lines()
    assert label.text() == LONG and label.is_elided() and label.toolTip() == LONG
    assert len(shown) == 1 and "…" in shown[0] and shown[0].startswith("Could not")
    assert QFontMetrics(label.font()).horizontalAdvance(shown[0]) <= label.contentsRect().width()
    label.setText("short again")
    assert label.toolTip() == "where the model files are"


def test_several_lines_wrap_inside_long_words_and_end_in_an_ellipsis(qtbot) -> None:
    label = QtElidedLabel(LONG, lines=3)
    row = _row(qtbot, label)
    assert label.width() < row.width()
    qtbot.waitUntil(lambda: label.height() >= label.heightForWidth(label.width()), timeout=1000)
    shown = label.shown_lines()
    fm = QFontMetrics(label.font())
    assert len(shown) == 3 and shown[-1].endswith("…") and label.toolTip() == LONG
    assert all(fm.horizontalAdvance(line) <= label.contentsRect().width() for line in shown)
    assert label.heightForWidth(label.width()) == fm.height() + 2 * fm.lineSpacing()
    label.setText("two\nlines")
    assert label.shown_lines() == ["two", "lines"] and not label.is_elided()
    assert label.toolTip() == ""
    one = QtElidedLabel("two\nlines")
    row = _row(qtbot, one)
    assert row.isVisible() and one.shown_lines() == ["two lines"]
