"""The Labels page: real widgets offscreen on fake_backend.py replaying sessions recorded from
the real backend by record_labels_sessions.py (labels_edit, labels_preview, labels_files),
and one assembled from labels_edit with the fake's crash_once (the backend dies while an
edit is on its way). The keyboard drives the table as a user does; the page must send
exactly the recorded requests (the coalesce key aside: each session makes its own).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from desktop.components.labels_rows import COLUMNS, Filters
from desktop.components.project_state import ProjectState
from desktop.components.settings import AppSettings, JsonSettingsStore
from desktop.ui.labels_cells import QtTextCellEditor
from desktop.ui.labels_page import QtLabelsPage
from desktop.ui.project_controller import ProjectController
from tests.desktop.conftest import SESSIONS, fake_command
from tests.desktop.record_labels_sessions import FIRST_TEXT, PROJECT, TYPED

pytestmark = pytest.mark.timeout(60)
PREFIX = "fake backend received: "


def messages(name: str, folder: Path) -> list[dict[str, Any]]:
    text = (SESSIONS / name).read_text(encoding="utf-8")
    text = text.replace("$PROJECT", json.dumps(str(folder))[1:-1])
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def recorded(name: str, folder: Path, cmd: str) -> list[dict[str, Any]]:
    return [m["args"] for m in messages(name, folder) if m.get("fake") == "await"
            and m["cmd"] == cmd]


def first_rows(name: str, folder: Path) -> list[dict[str, Any]]:
    return next(m["result"]["rows"] for m in messages(name, folder)
                if m.get("type") == "result" and "rows" in m.get("result", {}))


def received(sig, cmd: str) -> list[dict[str, Any]]:
    reqs = [json.loads(s[len(PREFIX):]) for s in sig.stderr if s.startswith(PREFIX)]
    return [r["args"] for r in reqs if r["cmd"] == cmd]


def open_page(qtbot, make_client, tmp_path: Path, session: str | Path):
    client, sig = make_client(fake_command(str(session), tmp_path))
    controller = ProjectController(client, AppSettings(JsonSettingsStore(tmp_path / "s.json")))
    page = QtLabelsPage(client, controller)
    qtbot.addWidget(page)
    page.resize(1000, 650)
    page.show()
    qtbot.waitExposed(page)
    client.start()
    state = ProjectState(path=str(tmp_path / PROJECT), project={"name": PROJECT})
    controller.state = state
    controller.project_changed.emit(state)
    qtbot.waitUntil(lambda: page.table.loaded, timeout=10000)
    return page, sig


def press(qtbot, page: QtLabelsPage, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    page.view.setFocus()
    qtbot.keyClick(page.view, key, modifier)


def settle(qtbot, page: QtLabelsPage) -> None:
    qtbot.waitUntil(lambda: page.table.pending == 0, timeout=5000)


def test_the_keyboard_edits_and_every_change_is_sent(qtbot, make_client, tmp_path,
                                                      monkeypatch) -> None:
    page, sig = open_page(qtbot, make_client, tmp_path, "labels_edit.jsonl")
    rows = first_rows("labels_edit.jsonl", tmp_path)
    first, second, third = (r["id"] for r in rows[:3])
    table, view = page.table, page.view
    assert table.view == [r["id"] for r in rows] and table.current == first
    assert view.labels_model.data(view.labels_model.index(0, 0)) == "voice 0.wav 0:00.0–0:01.5"
    # Enter edits the text in place; the pause after "Hello" sends it, Enter sends the rest
    press(qtbot, page, Qt.Key.Key_Return)
    editor = view.findChild(QtTextCellEditor)
    assert editor is not None and editor.isVisible()
    qtbot.keyClicks(editor, TYPED[0])
    qtbot.waitUntil(lambda: len(received(sig, "labels.apply")) == 1, timeout=3000)
    qtbot.keyClicks(editor, TYPED[1][len(TYPED[0]):])
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    settle(qtbot, page)
    sets = [a["op"] for a in received(sig, "labels.apply")]
    assert [s["fields"]["text"] for s in sets] == list(TYPED)
    assert sets[0]["coalesce"] == sets[1]["coalesce"]  # one undo step
    assert table.rows[first]["text"] == "Hello world" and not view.findChild(QtTextCellEditor)
    press(qtbot, page, Qt.Key.Key_F)
    settle(qtbot, page)
    assert table.rows[first]["flag"] == "user"
    press(qtbot, page, Qt.Key.Key_Down)
    assert table.current == second
    at = recorded("labels_edit.jsonl", tmp_path, "labels.apply")[3]["op"]["at"]
    monkeypatch.setattr(view, "ask_split", lambda row: (at, None))  # the split dialog's answer
    press(qtbot, page, Qt.Key.Key_S)
    settle(qtbot, page)
    assert len(table.view) == len(rows) + 1 and table.current == second
    press(qtbot, page, Qt.Key.Key_M)
    settle(qtbot, page)
    assert len(table.view) == len(rows) and table.rows[second]["end"] == rows[1]["end"]
    press(qtbot, page, Qt.Key.Key_Delete)
    settle(qtbot, page)
    assert second not in table.view and table.current == third
    press(qtbot, page, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, page)
    assert second in table.view and table.undo.can_redo
    press(qtbot, page, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier
          | Qt.KeyboardModifier.ShiftModifier)
    settle(qtbot, page)
    assert second not in table.view
    press(qtbot, page, Qt.Key.Key_N)  # next flagged: the first row, no request
    assert table.current == first
    press(qtbot, page, Qt.Key.Key_Down)
    page.replace_bar.find.setText("world")
    page.replace_bar.replacement.setText("there")
    page.replace_bar.button.click()
    settle(qtbot, page)
    assert table.rows[first]["text"] == "Hello there"
    qtbot.waitUntil(lambda: page.status.text() == "Replaced 1 time(s).", timeout=2000)
    assert table.current == third
    for column, typed in (("language", "EN"), ("speaker", "Ann ")):  # edited in place too
        view.setCurrentIndex(view.labels_model.index(table.index_of(third),
                                                     COLUMNS.index(column)))
        press(qtbot, page, Qt.Key.Key_Return)
        lines = [w for w in view.viewport().findChildren(QLineEdit) if w.isVisible()]
        assert len(lines) == 1
        line = lines[0]
        line.selectAll()
        qtbot.keyClicks(line, typed)
        qtbot.keyClick(line, Qt.Key.Key_Return)
        settle(qtbot, page)
    assert (table.rows[third]["language"], table.rows[third]["speaker"]) == ("en", "Ann")
    ops = [a["op"] for a in received(sig, "labels.apply")]
    want = [a["op"] for a in recorded("labels_edit.jsonl", tmp_path, "labels.apply")]
    assert [{**o, "coalesce": None} for o in ops] == [{**o, "coalesce": None} for o in want]
    # Space plays the current row from its start to its end; Space again stops
    press(qtbot, page, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: view.play_id is not None, timeout=3000)
    assert received(sig, "audio.play") == recorded("labels_edit.jsonl", tmp_path,
                                                   "audio.play")
    qtbot.waitUntil(lambda: page.status.text().startswith("Playing voice 0.wav"),
                    timeout=2000)
    press(qtbot, page, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: len(received(sig, "audio.stop")) == 1, timeout=3000)
    assert view.playing is None


def test_the_reading_preview_names_what_cannot_be_read(qtbot, make_client, tmp_path) -> None:
    page, sig = open_page(qtbot, make_client, tmp_path, "labels_preview.jsonl")
    answers = [m["result"] for m in messages("labels_preview.jsonl", tmp_path)
               if m.get("type") == "result" and "normalized" in m.get("result", {})]
    assert page.table.current_row["text"] == FIRST_TEXT
    qtbot.waitUntil(lambda: page.preview.normalized.text() == answers[0]["normalized"],
                    timeout=5000)
    assert page.preview.phonemes.text() == answers[0]["phonemes"]
    bad = page.preview.unsupported.text()
    assert "“☃” U+2603 SNOWMAN (character 27)" in bad and "cannot read" in bad
    press(qtbot, page, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: page.preview.normalized.text() == answers[1]["normalized"],
                    timeout=5000)
    assert page.preview.unsupported.text().startswith("Every character can be read")
    assert received(sig, "text.preview") == recorded("labels_preview.jsonl", tmp_path,
                                                     "text.preview")


def test_export_and_import_run_the_labels_job(qtbot, make_client, tmp_path) -> None:
    page, sig = open_page(qtbot, make_client, tmp_path, "labels_files.jsonl")
    starts = recorded("labels_files.jsonl", tmp_path, "job.start")
    out, file = starts[0]["args"]["out"], starts[1]["args"]["file"]
    job = page.export_labels(out)
    qtbot.waitUntil(lambda: job.finished, timeout=5000)
    qtbot.waitUntil(lambda: page.status.text().startswith("Exported 2 row(s)"), timeout=2000)
    assert "3 row(s) left out: no text" in page.status.text()
    job = page.import_labels(file)
    qtbot.waitUntil(lambda: job.finished, timeout=5000)
    qtbot.waitUntil(lambda: page.table.pending == 0 and page.table.rows[
        page.table.view[0]]["text"] == "Doctor Smith paid five dollars", timeout=5000)
    status = page.status.text()
    assert "2 line(s) matched a clip, 1 row(s) updated" in status
    assert f"line 3 ({tmp_path / 'elsewhere' / 'gone.wav'}): no prepared clip" in status
    assert received(sig, "job.start") == starts
    assert len(received(sig, "labels.get")) == 2


def crash_session(folder: Path) -> Path:
    """labels_edit's hello and answers; the backend dies once while the flag is on its
    way; the restarted one is asked the labels again, then the flag (sent again)."""
    edit = messages("labels_edit.jsonl", folder)
    awaits = [i for i, m in enumerate(edit) if m.get("fake") == "await"]
    get, flag = awaits[0], awaits[3]
    marker = folder / "crashed once"
    out = [*edit[:get + 2], {**edit[flag], "as": "f"},
           {"fake": "crash_once", "marker": str(marker), "stderr": ["Killed"], "code": 137},
           {**edit[flag + 1], "id": "f"}]
    path = folder / "labels_crash.jsonl"
    path.write_text("\n".join(json.dumps(m, ensure_ascii=False) for m in out) + "\n",
                    encoding="utf-8")
    return path


def test_an_edit_on_its_way_when_the_backend_dies_is_sent_again(qtbot, make_client,
                                                                 tmp_path) -> None:
    page, sig = open_page(qtbot, make_client, tmp_path, crash_session(tmp_path))
    first = page.table.view[0]
    states: list[str] = []
    page.table.subscribe(lambda kind, ids: states.append(page.table.busy_text()))
    press(qtbot, page, Qt.Key.Key_F)
    qtbot.waitUntil(lambda: page.table.rows.get(first, {}).get("flag") == "user",
                    timeout=10000)
    assert any(s.startswith("The backend is away") for s in states)
    assert [a["op"]["kind"] for a in received(sig, "labels.apply")] == ["flag", "flag"]
    assert len(received(sig, "labels.get")) == 2  # read again once it was back
    assert page.table.ready and page.table.pending == 0


def test_filters_and_sort_from_the_widgets(qtbot, make_client, tmp_path) -> None:
    page, _sig = open_page(qtbot, make_client, tmp_path, "labels_preview.jsonl")
    table = page.table
    page.filters.text.setText("second")
    assert table.filters == Filters(text="second") and len(table.view) == 1
    page.filters.text.setText("")
    page.view.horizontalHeader().sectionClicked.emit(1)  # the Text column
    assert table.sort == ("text", False)
    page.view.horizontalHeader().sectionClicked.emit(1)
    assert table.sort == ("text", True) and table.row(table.view[0])["text"] == \
        "the second clip & its 2 words"
    qtbot.waitUntil(lambda: page.filters.language.findData("en") >= 0, timeout=2000)
    page.filters.language.setCurrentIndex(page.filters.language.findData("en"))
    assert table.filters.language == "en" and len(table.view) == 2


@pytest.mark.parametrize("size", [(1024, 700), (1920, 1080)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_page_fits_and_long_text_never_widens_it(qtbot, make_client, qsettings, tmp_path,
                                                     size) -> None:
    from desktop.ui.main_window import MainWindow
    from tests.desktop.test_layout import LONG, settled_problems, status_labels

    client, _sig = make_client(fake_command("labels_edit.jsonl", tmp_path))
    win = MainWindow(client, qsettings)
    qtbot.addWidget(win)
    client.start()
    win.resize(*size)
    win.show()
    qtbot.waitExposed(win)
    win.jobs_dock.show()
    win.log_dock.show()
    state = ProjectState(path=str(tmp_path / PROJECT), project={"name": PROJECT})
    win.controller.state = state
    win.controller.project_changed.emit(state)
    page = win.labels_page
    win.show_page("label")
    qtbot.waitUntil(lambda: page.table.loaded, timeout=10000)
    qtbot.waitUntil(lambda: (win.width(), win.height()) == size, timeout=2000)
    rid = page.table.view[0]
    page.table.rows[rid] = {**page.table.rows[rid], "text": LONG * 3,
                            "speaker": "a speaker with a long name " * 4}
    page.table._changed("cells", [rid])
    for label in status_labels(page):
        label.setText(LONG)
    problems = settled_problems(qtbot, win)
    assert not problems, "\n".join(problems)
    assert (win.width(), win.height()) == size, "the window grew"
    view = page.view
    assert view.horizontalScrollBar().maximum() == 0
    assert view.horizontalHeader().length() <= view.viewport().width()
    view.setFocus()
    view.setCurrentIndex(view.labels_model.index(0, 1))
    assert view.edit_current()
    editor = view.findChild(QtTextCellEditor)
    qtbot.waitUntil(lambda: editor.isVisible(), timeout=2000)
    assert editor.toPlainText() == LONG * 3
    assert editor.width() <= view.columnWidth(1) + 2  # it wraps inside its column
    assert editor.height() > view.rowHeight(0)
    assert editor.geometry().bottom() <= view.viewport().height()


def test_labels_changed_reads_the_labels_again(qtbot, make_client, tmp_path) -> None:
    """Without the transcription panel (which says so itself), the page follows
    ``labels.changed`` of its project; another project's is not its business."""
    from backend.protocol import Event

    page, sig = open_page(qtbot, make_client, tmp_path, "labels_preview.jsonl")
    page.transcribe = None
    page._on_event(Event("labels.changed", {"project": str(tmp_path / "other"),
                                            "revision": 9}))
    page._on_event(Event("labels.changed", {"project": str(tmp_path / PROJECT / "."),
                                            "revision": 9}))
    qtbot.waitUntil(lambda: len(received(sig, "labels.get")) == 2, timeout=5000)
    assert page.table.pending == 1  # the replay has no second answer: it waits
