"""The split dialog: where a split goes (Qt-free), and the real dialog offscreen.

The dialog's client is the waveform editor tests' ``FakeClient``: its ``audio.analyze`` is the
backend's real analysis of a WAV written here, ``audio.play`` answers with a play id. Clicks and
drags are real mouse events on the plot, at the pixel of a known time.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from backend.protocol import Event
from desktop.components.split_text import (
    MIN_SIDE,
    boundaries,
    can_split,
    clamp_point,
    halves,
    index_of_halves,
    move_word,
    text_at,
)
from desktop.ui.labels_split import QtSplitDialog
from tests.desktop.layout_checks import settled_problems
from tests.desktop.test_layout import LONG, status_labels
from tests.desktop.test_waveform_editor import FakeClient

SR = 16000
TEXT = "hello world, again"
WORDS = [["hello", 1.0, 1.8, 0.9], ["world,", 2.0, 2.5, 0.9], ["again", 3.6, 4.9, 0.8]]

pytestmark = pytest.mark.timeout(60)


# Qt-free ---------------------------------------------------------------------------------------
def test_the_point_stays_strictly_inside() -> None:
    assert clamp_point(3.0, 0.5, 5.5) == 3.0
    assert clamp_point(0.1, 0.5, 5.5) == pytest.approx(0.5 + MIN_SIDE)
    assert clamp_point(9.0, 0.5, 5.5) == pytest.approx(5.5 - MIN_SIDE)
    assert clamp_point(1.23456, 0.5, 5.5) == 1.235  # ms
    a = clamp_point(1.0, 1.0, 1.0004)  # shorter than two sides: the middle, still inside
    assert 1.0 < a < 1.0004
    assert can_split(0.0, 0.05) and not can_split(0.0, 2 * MIN_SIDE)


def test_the_text_is_cut_at_a_word() -> None:
    assert boundaries(TEXT) == [0, 6, 13, len(TEXT)]
    assert boundaries("") == [0] and boundaries("你好世界") == [0, 1, 2, 3, 4]
    assert boundaries("我说 hello 了") == [0, 1, 3, 9, 10]
    # from the words: those whose middle is left of the point go left
    assert text_at(TEXT, WORDS, 3.0, 0.5, 5.5) == 13
    assert text_at(TEXT, WORDS, 1.3, 0.5, 5.5) == 0
    assert text_at(TEXT, WORDS, 1.5, 0.5, 5.5) == 6
    # the text was edited since (4 tokens, 3 words): by the words' share
    assert text_at("hello big world again", WORDS, 3.0, 0.5, 5.5) == len("hello big world ")
    # no words: the boundary nearest the time share
    assert text_at(TEXT, None, 0.5 + 5.0 * 0.3, 0.5, 5.5) == 6
    assert text_at(TEXT, None, 0.5 + 5.0 * 0.7, 0.5, 5.5) == 13
    assert text_at("你好世界", None, 1.5, 0.0, 2.0) == 3
    assert text_at("", None, 1.0, 0.0, 2.0) == 0
    assert halves(TEXT, 13) == ("hello world,", "again")


def test_adjusted_halves_give_the_index_back() -> None:
    assert index_of_halves(TEXT, "hello", "world, again") == 6
    assert index_of_halves(TEXT, "  hello world,", "again ") == 13
    assert index_of_halves(TEXT, "", TEXT) == 0
    assert index_of_halves(TEXT, "hello wor", "ld, again") is None  # inside a word
    assert index_of_halves(TEXT, "hello there", "again") is None  # other words
    assert index_of_halves("你好世界", "你好世", "界") == 3
    assert move_word(TEXT, 6, 1) == 13 and move_word(TEXT, 6, -1) == 0
    assert move_word(TEXT, 0, -1) == 0 and move_word(TEXT, 13, 5) == len(TEXT)


# the dialog -------------------------------------------------------------------------------------
@pytest.fixture
def row(unicode_dir) -> dict:
    t = np.arange(int(SR * 6.0)) / SR
    voiced = ((t > 1.0) & (t < 2.5)) | ((t > 3.6) & (t < 4.9))
    wav = unicode_dir / "take – ü 1.wav"
    sf.write(str(wav), (0.5 * np.sin(2 * np.pi * 220 * t) * voiced).astype(np.float32), SR)
    return {"id": "r7", "source_path": str(wav), "source_name": wav.name, "start": 0.5,
            "end": 5.5, "text": TEXT, "words": WORDS}


def _curve_points(dialog: QtSplitDialog) -> int:
    x, _y = dialog.plots.wave_curve.getData()
    return 0 if x is None else len(x)


def _open(qtbot, client, row) -> QtSplitDialog:
    dialog = QtSplitDialog(row, client, cache_dir=str(client.cache_dir))
    qtbot.addWidget(dialog)
    dialog.resize(700, 450)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: dialog.data is not None, timeout=5000)
    qtbot.waitUntil(lambda: _curve_points(dialog) > 0, timeout=2000)
    return dialog


def _pixel(dialog: QtSplitDialog, t: float) -> QPoint:
    """The plot widget's pixel of time ``t`` (mid-height of the waveform)."""
    vb = dialog.plots.wave_vb
    y = sum(vb.viewRange()[1]) / 2
    return dialog.plots.mapFromScene(vb.mapViewToScene(QPointF(t, y)))


def _pixel_seconds(dialog: QtSplitDialog) -> float:
    lo, hi = dialog.plots.view_range()
    return (hi - lo) / dialog.plots.wave_vb.width()


def test_a_click_chooses_the_point_and_the_text_follows(qtbot, unicode_dir, row) -> None:
    client = FakeClient(unicode_dir / "cache")
    dialog = _open(qtbot, client, row)
    assert client.sent("audio.analyze") == [{"path": row["source_path"],
                                             "cache_dir": str(unicode_dir / "cache")}]
    lo, hi = dialog.plots.view_range()
    assert lo == pytest.approx(0.5, abs=0.01) and hi == pytest.approx(5.5, abs=0.01)
    x, y = dialog.plots.wave_curve.getData()
    assert float(np.max(y)) == pytest.approx(0.5, abs=0.02)
    assert [(i.toPlainText(), i.pos().x()) for i in dialog.word_items] == [
        (w[0], w[1]) for w in WORDS]

    QTest.mouseClick(dialog.plots.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, _pixel(dialog, 3.0))
    tol = 2 * _pixel_seconds(dialog)
    assert dialog.at == pytest.approx(3.0, abs=tol)
    assert dialog.plots.cursor_lines[0].value() == pytest.approx(dialog.at)
    assert (dialog.left_edit.text(), dialog.right_edit.text()) == ("hello world,", "again")
    QTest.mouseClick(dialog.plots.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, _pixel(dialog, 1.5))
    assert dialog.at == pytest.approx(1.5, abs=tol)
    assert (dialog.left_edit.text(), dialog.right_edit.text()) == ("hello", "world, again")
    dialog.ok_btn.click()
    assert dialog.result() is not None
    at, text_index = dialog.result()
    assert at == pytest.approx(1.5, abs=tol) and 0.5 < at < 5.5 and text_index == 6
    assert dialog.isHidden()


def test_drag_to_an_end_stays_inside_and_cancel_gives_none(qtbot, unicode_dir, row) -> None:
    client = FakeClient(unicode_dir / "cache")
    dialog = _open(qtbot, client, row)
    widget = dialog.plots.viewport()
    start, end = _pixel(dialog, 3.0), _pixel(dialog, 5.4) + QPoint(400, 0)  # past the end
    QTest.mousePress(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for n in range(1, 11):
        QTest.mouseMove(widget, start + (end - start) * (n / 10))
        qtbot.wait(5)
    QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    assert dialog.at == pytest.approx(5.5 - MIN_SIDE) and dialog.at < 5.5
    assert (dialog.left_edit.text(), dialog.right_edit.text()) == (TEXT, "")
    dialog.buttons.button(dialog.buttons.StandardButton.Cancel).click()
    assert dialog.result() is None


def test_words_move_across_and_edited_halves_must_keep_the_text(qtbot, unicode_dir,
                                                                row) -> None:
    client = FakeClient(unicode_dir / "cache")
    row = {**row, "words": None, "text": "我们 走吧 now"}
    dialog = _open(qtbot, client, row)
    dialog.set_point(1.0)  # 10 % of the span: nearest boundary by share is after 我
    assert (dialog.left_edit.text(), dialog.right_edit.text()) == ("我", "们 走吧 now")
    dialog.word_right.click()
    assert (dialog.left_edit.text(), dialog.right_edit.text()) == ("我们", "走吧 now")
    dialog.word_left.click()
    dialog.word_left.click()
    assert dialog.left_edit.text() == "" and not dialog.word_left.isEnabled()
    QTest.keyClicks(dialog.right_edit, "x")  # no longer the clip's text
    assert not dialog.ok_btn.isEnabled() and "word for word" in dialog.text_error.text()
    dialog.left_edit.setText("我们 走吧")  # the user moves words across by typing
    dialog.right_edit.setText("now")
    dialog.right_edit.textEdited.emit("now")
    assert dialog.ok_btn.isEnabled() and dialog.text_error.text() == ""
    dialog.ok_btn.click()
    assert dialog.result() == (pytest.approx(1.0), len("我们 走吧 "))


def test_space_plays_each_side_in_turn(qtbot, unicode_dir, row) -> None:
    client = FakeClient(unicode_dir / "cache")
    dialog = _open(qtbot, client, row)
    dialog.set_point(2.8)
    dialog.plots.setFocus()
    QTest.keyClick(dialog.plots, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: dialog._play_id == 7, timeout=2000)
    assert client.sent("audio.play") == [{"path": row["source_path"], "start": 0.5,
                                          "end": 2.8}]
    client.sig_event.emit(Event("audio.position", {"t": 1.2, "playing": True, "play_id": 7}))
    qtbot.waitUntil(lambda: dialog.plots.playhead() == pytest.approx(1.2), timeout=2000)
    client.sig_event.emit(Event("audio.finished", {"t": 2.8, "playing": False, "play_id": 7}))
    qtbot.waitUntil(lambda: len(client.sent("audio.play")) == 2, timeout=2000)
    assert client.sent("audio.play")[1] == {"path": row["source_path"], "start": 2.8,
                                            "end": 5.5}
    qtbot.waitUntil(lambda: dialog._play_id == 7, timeout=2000)
    QTest.keyClick(dialog.plots, Qt.Key.Key_Space)  # again while playing: stop
    assert client.sent("audio.stop") == [{}]
    qtbot.waitUntil(lambda: dialog.plots.playhead() is None, timeout=2000)
    QTest.keyClick(dialog.plots, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert dialog.at == pytest.approx(2.9)
    dialog.play_right_btn.click()
    assert client.sent("audio.play")[-1] == {"path": row["source_path"], "start": 2.9,
                                             "end": 5.5}


def test_an_analysis_error_is_shown(qtbot, unicode_dir, row) -> None:
    client = FakeClient(unicode_dir / "cache")
    client.fail["audio.analyze"] = f"cannot read {row['source_path']}"
    dialog = QtSplitDialog(row, client, cache_dir=str(client.cache_dir))
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "cannot read" in dialog.status.text(), timeout=2000)
    assert dialog.status.text() == f"error: cannot read {row['source_path']}"


@pytest.mark.parametrize("size", [(1024, 700), None], ids=["1024x700", "minimum"])
def test_the_dialog_fits_a_laptop_screen(qtbot, unicode_dir, row, size) -> None:
    client = FakeClient(unicode_dir / "cache")
    dialog = _open(qtbot, client, {**row, "text": LONG, "words": None, "source_name": LONG})
    hint = dialog.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 700, hint
    size = size or (max(hint.width(), dialog.minimumWidth()),
                    max(hint.height(), dialog.minimumHeight()))
    dialog.resize(*size)
    for label in status_labels(dialog):
        label.setText(LONG)
    QApplication.processEvents()
    assert settled_problems(qtbot, dialog) == []
    assert (dialog.width(), dialog.height()) == size, "the dialog grew"


def test_a_clip_too_short_to_split_cannot_be_accepted(qtbot, unicode_dir, row) -> None:
    client = FakeClient(unicode_dir / "cache")
    dialog = _open(qtbot, client, {**row, "start": 1.0, "end": 1.0 + 2 * MIN_SIDE})
    assert dialog.status.text() == "This clip is too short to split."
    assert not dialog.ok_btn.isEnabled()
    dialog.accept()
    assert dialog.result() is None and dialog.isVisible()
