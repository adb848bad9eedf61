"""QtLabelsTable over a LabelsTable whose backend is the in-memory labels_fake (no backend
process): the open text editor survives the labels being read again and rows coming and
going, and keeps what is typed."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop.backend_client import BackendClient
from desktop.components.labels_table import LabelsTable
from desktop.ui.labels_cells import QtTextCellEditor
from desktop.ui.labels_table import QtLabelsTable
from tests.desktop.labels_fake import LabelsFake, Wire, make_rows


def test_the_editor_stays_open_while_rows_change(qtbot) -> None:
    wire = Wire(LabelsFake(make_rows()), auto=True)
    table = LabelsTable(wire)
    view = QtLabelsTable(table, BackendClient())  # never started: no request goes out
    qtbot.addWidget(view)
    view.resize(900, 400)
    view.show()
    qtbot.waitExposed(view)
    table.load("/projects/My voice ü")
    table.set_current("r2")
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Return)
    editor = view.findChild(QtTextCellEditor)
    assert editor is not None and editor.toPlainText() == "take 0 line 1"
    qtbot.keyClicks(editor, " and more")
    table.reload()  # a transcription saved other rows meanwhile
    table.delete(["r1"])  # another row goes (the editor's row moves up)
    qtbot.wait(20)
    assert editor.isVisible() and editor.toPlainText() == "take 0 line 1 and more"
    assert view.currentIndex().row() == 0 and table.row("r2")["text"] == \
        "take 0 line 1 and more"
    qtbot.keyClicks(editor, ", typed after")  # the delete saved the text: a new step
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert wire.backend._row("r2")["text"] == "take 0 line 1 and more, typed after"
    assert table.editing is None
    qtbot.waitUntil(lambda: not view.findChild(QtTextCellEditor), timeout=2000)


def test_escape_puts_the_text_back_and_saves_nothing_more(qtbot) -> None:
    wire = Wire(LabelsFake(make_rows()), auto=True)
    table = LabelsTable(wire)
    view = QtLabelsTable(table, BackendClient())
    qtbot.addWidget(view)
    view.show()
    table.load("/projects/My voice ü")
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Return)
    editor = view.findChild(QtTextCellEditor)
    qtbot.keyClicks(editor, " oops")
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not view.findChild(QtTextCellEditor), timeout=2000)
    assert table.row("r1")["text"] == "take 0 line 0" == wire.backend._row("r1")["text"]
    assert [c for c, _ in wire.sent] == ["labels.get"]  # nothing was sent: nothing to undo


def test_s_without_the_split_dialog_says_so(qtbot, monkeypatch) -> None:
    import desktop.ui.labels_table as labels_view

    monkeypatch.setattr(labels_view, "QtSplitDialog", None)
    wire = Wire(LabelsFake(make_rows()), auto=True)
    table = LabelsTable(wire)
    view = labels_view.QtLabelsTable(table, BackendClient())
    qtbot.addWidget(view)
    view.show()
    table.load("/projects/My voice ü")
    said: list[tuple[str, bool]] = []
    view.sig_message.connect(lambda text, error: said.append((text, error)))
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_S)
    assert said == [(labels_view.NO_SPLIT_DIALOG, True)]
    assert [c for c, _ in wire.sent] == ["labels.get"]
    assert view.split_current(0.75, 4)  # a split given directly
    assert wire.sent[-1][1]["op"] == {"kind": "split", "id": "r1", "at": 0.75, "text_at": 4}
    assert len(table.view) == 7


def test_the_split_dialog_analyses_into_the_projects_cache(qtbot, monkeypatch) -> None:
    """The waveform of the row goes to <project>/cache (with the editor's), not a temporary
    folder of the app."""
    import desktop.ui.labels_split as split_mod
    import desktop.ui.labels_table as labels_view

    made: list[str | None] = []

    class Recording(split_mod.QtSplitDialog):  # the real dialog, its cache folder noted
        def __init__(self, row, client, parent=None, *, cache_dir=None) -> None:
            made.append(cache_dir)
            super().__init__(row, client, parent, cache_dir=cache_dir)

        def exec(self) -> int:  # not modal in a test: cancelled at once
            return 0

    monkeypatch.setattr(labels_view, "QtSplitDialog", Recording)
    table = LabelsTable(Wire(LabelsFake(make_rows()), auto=True))
    view = labels_view.QtLabelsTable(table, BackendClient())
    qtbot.addWidget(view)
    table.load("/projects/My voice ü")
    assert view.ask_split(dict(table.row("r1"))) is None  # cancelled
    assert made == ["/projects/My voice ü/cache"]
