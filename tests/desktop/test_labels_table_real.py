"""The Qt-free table against the real ``labels.*`` commands (in this process, no Qt): every
edit is in labels.json when its answer comes, so an app killed between two edits loses
nothing; one undo step per cell editing; a merge whose answer a crash lost is not done twice.

The project is prepared by the real prepare job from espeak-ng speech (tests/labels/helpers).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from backend.commands import COMMANDS, CommandError, load_all
from backend.protocol import Error
from desktop.components.labels_table import LabelsTable
from tests.labels.helpers import prepared_project, voices

pytestmark = pytest.mark.timeout(120)


class InProcess:
    """A sender that runs the backend's command handlers at once."""

    def __init__(self) -> None:
        load_all()
        self.sent: list[tuple[str, dict]] = []
        self.lose_answer = False  # the next request is carried out, its answer lost

    def __call__(self, cmd: str, args: dict, on_result, on_error) -> None:
        self.sent.append((cmd, args))
        try:
            result = COMMANDS[cmd](dict(args), None)
        except CommandError as exc:
            on_error(Error("x", exc.code, exc.message, exc.details))
            return
        if self.lose_answer:
            self.lose_answer = False
            on_error(Error("x", "backend_crashed", "the backend crashed: exit code 1"))
            return
        on_result(result)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("labels base")
    return prepared_project(base / "My voice ü", voices(base / "takes ä")).root


@pytest.fixture
def project(prepared, tmp_path) -> str:
    root = tmp_path / "Projekt ü 1"
    shutil.copytree(prepared, root)
    return str(root)


def fresh(project: str) -> LabelsTable:
    """What an app opened again would show."""
    table = LabelsTable(InProcess())
    table.load(project)
    return table


def spans(table: LabelsTable) -> list[tuple]:
    return [(r["source_id"], round(r["start"], 3), round(r["end"], 3), r["text"], r["flag"],
             r["language"]) for r in (table.rows[rid] for rid in table._natural)]


def test_every_edit_is_saved_when_its_answer_comes(project) -> None:
    sender = InProcess()
    table = LabelsTable(sender)
    table.load(project)
    assert table.loaded and len(table.view) >= 4, table.error
    first, second = table.view[0], table.view[1]
    steps = [lambda: table.set_fields([first], language="en"),
             lambda: table.begin_edit(first) and table.commit_edit("Hello world again"),
             lambda: table.toggle_flag([second]),
             lambda: table.split(first, (table.rows[first]["start"]
                                         + table.rows[first]["end"]) / 2, 5),
             lambda: table.merge(first),
             lambda: table.replace("world", "there"),
             lambda: table.delete([second])]
    for n, step in enumerate(steps):
        assert step() is not False, f"step {n}: {table.error}"
        assert not table.error, f"step {n}: {table.error}"
        assert spans(fresh(project)) == spans(table), f"step {n} was not saved"
    assert table.row(first)["text"] == "Hello there again"
    assert second not in table.rows


def test_one_editing_is_one_undo_step(project) -> None:
    clock = [0.0]
    table = LabelsTable(InProcess(), lambda: clock[0])
    table.load(project)
    rid = table.view[0]
    before = table.row(rid)["text"]
    table.begin_edit(rid)
    for text in ("H", "He", "Hel", "Hello"):
        table.type_text(text)
        clock[0] += 1.0
        assert table.flush_typing()
    table.commit_edit("Hello.")
    assert fresh(project).rows[rid]["text"] == "Hello." and table.undo.can_undo
    assert table.undo_last() and not table.error
    assert table.row(rid)["text"] == before == fresh(project).rows[rid]["text"]
    assert table.redo_last()
    assert table.row(rid)["text"] == "Hello."


@pytest.mark.parametrize("answered", [False, True], ids=["waited-while-away", "answer-lost"])
def test_a_merge_the_crash_interrupted_is_done_once(project, answered) -> None:
    sender = InProcess()
    table = LabelsTable(sender)
    table.load(project)
    rows = len(table.rows)
    rid = table.view[0]
    if answered:
        sender.lose_answer = True
        table.merge(rid)
    else:
        table.set_backend_ready(False)  # the backend is away: the merge waits
        table.merge(rid)
    assert not table.ready
    table.set_backend_ready(True)
    assert len(fresh(project).rows) == rows - 1 == len(table.rows)
    assert [args["op"]["kind"] for cmd, args in sender.sent if cmd == "labels.apply"] == \
        ["merge"]
