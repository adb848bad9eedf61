"""The Labels page's table model, without Qt: every edit goes out as an op and its reply is
applied; undo and redo; one undo step per cell editing; the queue while the backend is away;
filters, sort, search and replace, next flagged.

The backend is tests/desktop/labels_fake.py (the protocol's labels.* commands in memory);
its ``Wire`` holds each request until the test answers it.
"""

from __future__ import annotations

import pytest

from desktop.components.labels_rows import (
    NONE_SET,
    Filters,
    cell,
    summary_text,
)
from desktop.components.labels_table import DEBOUNCE_S, LabelsTable
from tests.desktop.labels_fake import LabelsFake, Wire, make_rows

PROJECT = "/projects/My voice ü"


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def wire() -> Wire:
    return Wire(LabelsFake(make_rows()), auto=True)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def table(wire, clock) -> LabelsTable:
    t = LabelsTable(wire, clock)
    t.load(PROJECT)
    return t


def ops(wire: Wire) -> list[dict]:
    return [args["op"] for cmd, args in wire.sent if cmd == "labels.apply"]


def texts(table: LabelsTable) -> list[str]:
    return [r["text"] for r in table.shown()]


def test_load_shows_the_rows_in_recording_order(wire, table) -> None:
    assert wire.sent[0] == ("labels.get", {"project": PROJECT})
    assert table.loaded and table.view == ["r1", "r2", "r3", "r4", "r5", "r6"]
    assert table.current == "r1"
    assert cell(table.row("r2"), "clip") == "take 0 ü.wav 0:02.0–0:03.5"
    assert cell(table.row("r3"), "flag") == "low confidence"
    assert table.status_text() == "Every change is saved."
    assert summary_text(table.shown()) == "6 rows, 0:09.0 of audio; 2 flagged"
    stale = {**table.row("r6"), "stale": True, "text": ""}
    assert summary_text([*table.shown()[:5], stale], shown=2) == \
        "5 rows, 0:07.5 of audio; 1 flagged, 1 stale. Showing 2 (filtered)"


def test_sort_by_any_column_keeps_the_recording_order_for_ties(table) -> None:
    table.set_sort("confidence")
    assert table.view == ["r3", "r6", "r2", "r5", "r1", "r4"]
    table.set_sort("confidence", descending=True)
    assert table.view == ["r1", "r4", "r2", "r5", "r3", "r6"]
    table.set_sort("flag")  # rows without a flag last
    assert table.view[:2] == ["r3", "r6"]
    table.set_sort("text", descending=True)
    assert texts(table)[0] == "take 1 line 2"
    table.set_sort(None)
    assert table.view == ["r1", "r2", "r3", "r4", "r5", "r6"]


def test_filters(wire, table) -> None:
    table.set_filters(Filters(flag="flagged"))
    assert table.view == ["r3", "r6"] and table.current == "r3"
    table.set_filters(Filters(below=0.5))
    assert table.view == ["r3", "r6"]
    table.set_filters(Filters(below=0.7))
    assert table.view == ["r2", "r3", "r5", "r6"]
    table.set_filters(Filters(text="TAKE 1"))
    assert table.view == ["r4", "r5", "r6"]
    table.set_filters(Filters(language="de"))
    assert table.view == [] and table.current is None
    table.set_filters(Filters(speaker=NONE_SET))
    assert len(table.view) == 6
    table.set_filters(Filters(speaker="Ann"))
    assert table.view == []
    table.set_filters(Filters())
    assert table.set_fields(["r2"], speaker="Ann")
    table.set_filters(Filters(speaker="Ann"))
    assert table.view == ["r2"]


def test_a_field_change_is_an_op_and_its_reply_is_applied(wire, table) -> None:
    assert not table.undo.can_undo
    assert table.set_fields(["r1", "r2"], language="de")
    assert ops(wire)[-1] == {"kind": "set", "ids": ["r1", "r2"], "fields": {"language": "de"}}
    assert table.row("r1")["language"] == "de" and table.undo.can_undo
    assert table.undo.undo_label == "set"
    assert not table.set_fields(["r1"], language="de")  # nothing would change: nothing sent
    assert len(ops(wire)) == 1
    table.set_fields(["r1"], speaker="Ann")
    table.set_fields(["r1"], speaker="")  # "" sets none
    assert ops(wire)[-1]["fields"] == {"speaker": None}
    assert table.row("r1")["speaker"] is None


def test_undo_and_redo(wire, table) -> None:
    table.delete(["r2"])
    assert "r2" not in table.rows and table.view == ["r1", "r3", "r4", "r5", "r6"]
    assert table.undo_last()
    assert wire.sent[-1] == ("labels.undo", {"project": PROJECT})
    assert table.view == ["r1", "r2", "r3", "r4", "r5", "r6"]  # back in its place
    assert table.undo.can_redo and not table.undo.can_undo
    assert not table.undo_last()  # nothing to undo: nothing sent
    assert table.redo_last()
    assert "r2" not in table.rows and table.message == "Redone."


def test_typing_is_sent_debounced_and_is_one_undo_step(wire, table, clock) -> None:
    edit = table.begin_edit("r1")
    assert edit is not None and edit.text == "take 0 line 0"
    for n, text in enumerate(("take 0 line 0!", "Take 0 line 0!", "Take zero line 0!")):
        clock.t += 0.1 * n
        table.type_text(text)
    assert table.row("r1")["text"] == "Take zero line 0!"  # shown at once
    assert not table.flush_typing()  # typed 0 s ago: not due yet
    assert table.typing_due_in() == pytest.approx(DEBOUNCE_S)
    assert table.status_text() == "Saving…"
    clock.t += DEBOUNCE_S
    assert table.flush_typing()
    first = ops(wire)[-1]
    assert first["fields"] == {"text": "Take zero line 0!"} and first["coalesce"]
    assert not table.flush_typing()  # nothing new typed
    table.type_text("Take zero, line zero.")
    assert table.commit_edit()  # at commit: sent now
    last = ops(wire)[-1]
    assert last["coalesce"] == first["coalesce"] and len(ops(wire)) == 2
    assert table.rows["r1"]["text"] == "Take zero, line zero." and table.editing is None
    assert len(wire.backend.undo) == 1  # one undo step for the whole editing
    table.undo_last()
    assert table.row("r1")["text"] == "take 0 line 0"
    table.begin_edit("r1")
    table.commit_edit("take 0 line 0 again")
    assert ops(wire)[-1]["coalesce"] != first["coalesce"]  # a new editing, a new step


def test_typing_shows_while_the_answers_are_slow(wire, table, clock) -> None:
    wire.auto = False
    table.begin_edit("r2")
    for text in ("one", "one two", "one two three"):
        table.type_text(text)
        clock.t += 1
        table.flush_typing()
    # "one" is on its way; "one two three" replaced "one two", which had not gone yet
    assert [o["fields"]["text"] for o in ops(wire)] == ["one"] and table.pending == 2
    table.type_text("one two three four")
    wire.deliver(1)  # the answer to "one" arrives while more is typed
    assert table.row("r2")["text"] == "one two three four"
    table.commit_edit()
    wire.deliver()
    wire.deliver()
    assert [o["fields"]["text"] for o in ops(wire)] == ["one", "one two three",
                                                        "one two three four"]
    assert table.row("r2")["text"] == "one two three four" == wire.backend._row("r2")["text"]
    assert len(wire.backend.undo) == 1


def test_escape_puts_the_text_back_in_the_same_step(wire, table, clock) -> None:
    table.begin_edit("r1")
    table.type_text("oops")
    clock.t += 1
    table.flush_typing()
    table.cancel_edit()
    assert table.row("r1")["text"] == "take 0 line 0" == wire.backend._row("r1")["text"]
    assert len(wire.backend.undo) == 1
    table.begin_edit("r1")
    table.cancel_edit()  # nothing typed: nothing sent
    assert len(ops(wire)) == 2


def test_requests_go_one_at_a_time_in_order(wire, table) -> None:
    wire.auto = False
    table.toggle_flag(["r1"])
    table.merge("r4")
    table.set_fields(["r6"], language="fr")
    assert len(wire.waiting) == 1 and table.pending == 3
    wire.deliver(1)
    assert len(wire.waiting) == 1 and wire.waiting[0][1]["op"]["kind"] == "merge"
    wire.deliver()
    wire.deliver()
    assert [o["kind"] for o in ops(wire)] == ["flag", "merge", "set"]
    assert table.pending == 0 and table.status_text() == "Every change is saved."


def test_edits_wait_while_the_backend_is_away_and_go_in_order(wire, table, clock) -> None:
    table.set_backend_ready(False)
    table.set_fields(["r1"], speaker="Ann")
    table.begin_edit("r2")
    table.type_text("typed while away")
    clock.t += 1
    table.flush_typing()
    table.delete(["r3"])  # saves the typing first
    table.undo_last()
    assert len(wire.sent) == 1  # only the first labels.get went out
    assert "3 change(s) wait here" in table.status_text()
    assert table.row("r2")["text"] == "typed while away"
    table.set_backend_ready(True)
    # the labels are read again first, then the changes go in order
    assert [c for c, _ in wire.sent[1:]] == ["labels.get"] + ["labels.apply"] * 3 + \
        ["labels.undo"]
    assert [o["kind"] for o in ops(wire)] == ["set", "set", "delete"]
    assert wire.backend._row("r2")["text"] == "typed while away"
    assert "r3" in table.rows  # deleted, then undone
    assert table.status_text() == "Undone."


def test_a_safe_op_lost_in_a_crash_is_sent_again(wire, table) -> None:
    wire.auto = False
    table.set_fields(["r1"], language="de")
    table.toggle_flag(["r2"])
    wire.crash()
    assert not table.ready and len(wire.waiting) == 0
    table.set_backend_ready(True)
    wire.deliver()
    wire.deliver()
    assert [o["kind"] for o in ops(wire)] == ["set", "set", "flag"]
    assert wire.backend._row("r1")["language"] == "de" and table.rows["r2"]["flag"] == "user"


@pytest.mark.parametrize("saved", [False, True], ids=["lost", "saved-then-crashed"])
def test_a_merge_lost_in_a_crash_is_never_done_twice(wire, table, saved) -> None:
    wire.auto = False
    table.merge("r1")
    wire.crash(apply_first=saved)
    table.set_backend_ready(True)
    assert wire.waiting[0][0] == "labels.get"  # look first
    wire.deliver(1)
    if saved:
        assert not wire.waiting and "had been saved" in table.message
    else:
        assert wire.waiting[0][1]["op"] == {"kind": "merge", "id": "r1"}  # sent again
        wire.deliver()
    assert [r["id"] for r in wire.backend.rows] == ["r1", "r3", "r4", "r5", "r6"]
    assert table.view == ["r1", "r3", "r4", "r5", "r6"]
    assert wire.backend.rows[0]["text"] == "take 0 line 0 take 0 line 1"


def test_split_merge_delete_keep_the_place(wire, table) -> None:
    table.set_current("r2")
    assert table.split("r2", 2.5, 4)
    assert ops(wire)[-1] == {"kind": "split", "id": "r2", "at": 2.5, "text_at": 4}
    assert table.view == ["r1", "r2", "r7", "r3", "r4", "r5", "r6"]
    assert table.current == "r2" and table.row("r7")["start"] == 2.5
    assert not table.split("r2", 9.0)  # outside the clip: said, not sent
    assert "inside the clip" in table.error and len(ops(wire)) == 1
    assert table.merge("r7")
    assert table.row("r7")["end"] == 5.5 and "r3" not in table.view
    assert not table.merge("r7")  # the last of its recording
    assert "no next clip" in table.error
    table.set_current("r4")
    table.delete(["r4"])
    assert table.current == "r5"  # the next row takes its place
    table.set_current("r6")
    table.delete(["r6"])
    assert table.current == "r5"  # the last went: the one before


def test_a_split_row_shows_under_a_text_filter(wire, table) -> None:
    table.set_filters(Filters(text="line 1"))
    assert table.view == ["r2", "r5"]
    table.split("r2", 2.7, 6)  # "take 0" | "line 1": the second half still matches
    table.split("r2", 2.3, 4)  # "take" | "0": right after its row, though it does not match
    assert table.view == ["r2", "r8", "r7", "r5"]


def test_edited_rows_keep_their_place_until_the_filter_changes(wire, table) -> None:
    table.set_filters(Filters(flag="flagged"))
    table.toggle_flag(["r3"])  # checked: the flag goes
    assert table.rows["r3"]["flag"] is None and table.view == ["r3", "r6"]
    assert table.next_flagged() == "r6"
    assert table.next_flagged() == "r6"  # around the end, back to the only flagged one
    table.set_filters(Filters())
    table.set_filters(Filters(flag="flagged"))
    assert table.view == ["r6"]


def test_flag_toggles_and_next_flagged(wire, table) -> None:
    assert table.next_flagged() == "r3" and table.next_flagged() == "r6"
    assert table.next_flagged() == "r3"
    table.toggle_flag(["r1", "r3"])  # one is not flagged: both get the user's flag
    assert ops(wire)[-1] == {"kind": "flag", "ids": ["r1", "r3"], "flag": "user"}
    table.toggle_flag(["r1", "r3"])
    assert ops(wire)[-1]["flag"] is None
    table.set_filters(Filters(text="line 0"))
    assert table.next_flagged() is None and table.message == "No shown row is flagged."


def test_replace_on_the_filtered_rows(wire, table) -> None:
    assert table.replace("LINE", "row")  # no filter: every row, no ids
    assert "ids" not in ops(wire)[-1] and texts(table)[0] == "take 0 row 0"
    table.set_filters(Filters(text="take 1"))
    table.replace("row", "line", case=True)
    assert ops(wire)[-1]["ids"] == ["r4", "r5", "r6"]
    assert [r["text"] for r in wire.backend.rows] == [
        "take 0 row 0", "take 0 row 1", "take 0 row 2",
        "take 1 line 0", "take 1 line 1", "take 1 line 2"]
    assert len(wire.backend.undo) == 2  # one step each
    assert not table.replace("", "x") and "find" in table.error


def test_an_error_is_said_and_the_saved_rows_are_shown_again(wire, table) -> None:
    wire.backend.rows.pop(0)  # r1 went meanwhile (another window)
    gets = sum(1 for c, _ in wire.sent if c == "labels.get")
    table.set_fields(["r1"], language="de")
    assert table.error == "The change was not saved: no row r1"
    assert sum(1 for c, _ in wire.sent if c == "labels.get") == gets + 1
    assert "r1" not in table.rows


def test_answers_for_another_project_are_not_shown(wire, table) -> None:
    wire.auto = False
    table.set_fields(["r1"], language="de")
    table.load("/projects/other")
    wire.deliver(1)
    assert table.rows == {} and wire.backend._row("r1")["language"] == "de"
    wire.deliver()
    assert wire.sent[-1] == ("labels.get", {"project": "/projects/other"})
    assert table.loaded


def test_reload_is_asked_once_while_one_waits(wire, table) -> None:
    wire.auto = False
    table.set_fields(["r1"], language="de")
    table.reload()
    table.reload()
    assert table.pending == 2


def test_the_revision_moves_and_listeners_hear_what_changed(wire, table, clock) -> None:
    heard: list[tuple[str, list[str]]] = []
    table.subscribe(lambda kind, ids: heard.append((kind, ids)))
    before = table.revision
    table.begin_edit("r1")
    table.type_text("x")
    assert heard[-1] == ("cells", ["r1"]) and table.revision > before
    table.commit_edit()
    table.delete(["r2"])
    assert ("layout", []) in heard
    table.set_sort("text")
    assert heard[-1][0] in ("layout", "state")


def test_a_merge_whose_check_fails_is_not_guessed(wire, table) -> None:
    from backend.protocol import Error

    wire.auto = False
    table.merge("r1")
    wire.crash()
    table.set_backend_ready(True)
    _cmd, _args, _ok, fail = wire.waiting.pop(0)  # the labels.get that looks first
    fail(Error("x", "not_found", "no project at /projects/My voice ü"))
    assert not wire.waiting and table.pending == 0
    assert "may not have been saved" in table.error and "check it" in table.error


def test_text_typed_when_another_project_opens_goes_to_its_own(wire, table, clock) -> None:
    table.begin_edit("r1")
    table.type_text("typed in the first project")
    table.load("/projects/other")
    assert ops(wire)[-1]["fields"] == {"text": "typed in the first project"}
    assert wire.sent[-2][1]["project"] == PROJECT  # the set, then the other's labels.get
    assert wire.sent[-1] == ("labels.get", {"project": "/projects/other"})


def test_a_busy_project_keeps_the_change_and_sends_it_again(wire, table, clock) -> None:
    from backend.protocol import Error

    wire.auto = False
    table.begin_edit("r1")
    table.commit_edit("typed while the command line prepares")
    _cmd, _args, _ok, fail = wire.waiting.pop(0)
    fail(Error("x", "busy", "My voice ü is busy: a prepare job (process 4242) works on it."))
    assert table.row("r1")["text"] == "typed while the command line prepares"  # kept
    assert table.busy_text().startswith("My voice ü is busy: a prepare job")
    assert "sent again every 2 s" in table.busy_text() and not wire.waiting
    table.toggle_flag(["r2"])  # waits behind it
    assert not table.retry_if_due() and not wire.waiting
    clock.t += 2.0
    assert table.retry_if_due()
    wire.deliver()
    assert wire.backend._row("r1")["text"] == "typed while the command line prepares"
    assert wire.backend._row("r2")["flag"] == "user" and table.busy_text() == ""
