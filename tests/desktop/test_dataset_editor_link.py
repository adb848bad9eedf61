"""DatasetEditorLink on its own collaborators: an editor, the project, request and say.

No Dataset page is built: the link must work from what its constructor is given. The
editor here records what it is asked to show (the real one is driven by the link in
test_dataset_editor_real.py); its ``segments_changed`` is a real Qt signal.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from backend.protocol import Error
from desktop.components.project_state import ProjectState
from desktop.ui.dataset_editor_link import EDIT_SAVED, DatasetEditorLink


class RecordingEditor(QObject):
    segments_changed = Signal(str, object)

    def __init__(self) -> None:
        super().__init__()
        self.shown: list[tuple] = []
        self.f0: list = []

    def open_source(self, project: str, src: dict, segments, cache: str, prepared) -> None:
        self.shown.append(("source", project, src["id"], segments, cache))
        self.prepared = prepared

    def open_slice(self, project: str, sl: dict, segments, cache: str, prepared) -> None:
        self.shown.append(("slice", project, sl["name"], segments, cache))
        self.prepared = prepared

    def show_f0(self, info) -> None:
        self.f0.append(info)


class Requests:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict, object, object]] = []

    def __call__(self, cmd: str, args: dict, on_result=None, on_error=None) -> str:
        self.sent.append((cmd, args, on_result, on_error))
        return f"d{len(self.sent)}"


def _link(state: ProjectState | None):
    editor, requests, said = RecordingEditor(), Requests(), []
    holder = {"state": state}
    link = DatasetEditorLink(editor, project=lambda: holder["state"], request=requests,
                             say=said.append)
    return link, editor, requests, said, holder


def test_sources_and_slices_open_with_their_saved_edit(qtbot) -> None:
    state = ProjectState(path="/voices/Mé voice",
                         edits={"s1": {"segments": [[0.5, 2.0]]}})
    link, editor, requests, _said, holder = _link(state)
    link.open_source({"id": "s1", "name": "take 1.wav"})
    link.open_slice({"name": "take 2_0003.wav", "path": "/x/take 2_0003.wav", "source": "s2"})
    cache = "/voices/Mé voice/cache"
    assert editor.shown == [("source", state.path, "s1", [[0.5, 2.0]], cache),
                            ("slice", state.path, "take 2_0003.wav", None, cache)]
    assert editor.f0 == [None]  # a source has no pitch curve
    assert [(c, a) for c, a, _r, _e in requests.sent] == [
        ("features.f0", {"project": state.path, "slice": "take 2_0003"})]
    holder["state"] = None  # the project was closed
    link.open_source({"id": "s1"})
    link.open_slice({"name": "a.wav"})
    assert len(editor.shown) == 2 and len(requests.sent) == 1


def test_only_the_latest_pitch_answer_is_drawn(qtbot) -> None:
    link, editor, requests, _said, _holder = _link(ProjectState(path="/p"))
    link.open_slice({"name": "a.wav", "source": "s"})
    link.open_slice({"name": "b.wav", "source": "s"})
    (_c, _a, a_ok, _a_err), (_c2, _b, b_ok, b_err) = requests.sent
    a_ok({"path": "/p/f0/a.npy"})  # an answer for a slice no longer shown
    assert editor.f0 == []
    b_err(Error(id="d2", code="not_found", message="run Extract first"))
    assert editor.f0 == [{"path": None, "reason": "no pitch: run Extract first"}]
    link.open_slice({"name": "c.wav", "source": "s"})
    requests.sent[-1][2]({"path": "/p/f0/c.npy", "hop": 160})
    assert editor.f0[-1] == {"path": "/p/f0/c.npy", "hop": 160, "offset": 0.0}
    link.open_slice({"name": "d.wav", "source": "s"})
    link.open_source({"id": "s"})  # a source opened while d's pitch was on its way
    requests.sent[-1][2]({"path": "/p/f0/d.npy"})
    assert editor.f0[-1] is None


def test_a_saved_edit_goes_into_the_project_state(qtbot) -> None:
    state = ProjectState(path="/p", edits=None)
    _link_, editor, _requests, said, _holder = _link(state)
    editor.segments_changed.emit("src 1", [[0.0, 1.25]])
    assert state.edits == {"src 1": {"segments": [[0.0, 1.25]]}} and said == [EDIT_SAVED]
    editor.segments_changed.emit("src 1", None)  # the edit was removed
    assert state.edits == {} and said == [EDIT_SAVED, EDIT_SAVED]
