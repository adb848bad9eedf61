"""QtWaveformEditor with a fake client serving a real .npz from the backend analysis."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QObject, Qt, QTimer, Signal

from backend.audio.analysis import analyze
from backend.protocol import Error, Event
from desktop.components.waveform_data import WaveformData
from desktop.ui.waveform_editor import REPAINT_MS, QtWaveformEditor

SR = 16000
DURATION = 30.0  # long enough for two envelope levels


class FakeClient(QObject):
    """BackendClient's API: request() answers asynchronously, sig_event carries Events."""

    sig_event = Signal(object)

    def __init__(self, cache_dir: Path, sources: list[dict] | None = None) -> None:
        super().__init__()
        self.cache_dir = cache_dir
        self.sources = sources or []
        self.requests: list[tuple[str, dict]] = []
        self.fail: dict[str, str] = {}
        self._n = 0

    def request(self, cmd, args=None, on_result=None, on_error=None) -> str:
        args = dict(args or {})
        self._n += 1
        self.requests.append((cmd, args))
        if cmd in self.fail:
            err = Error(str(self._n), "bad_arguments", self.fail[cmd])
            QTimer.singleShot(0, lambda: on_error and on_error(err))
            return str(self._n)
        result = self._answer(cmd, args)
        QTimer.singleShot(0, lambda: on_result and on_result(result))
        return str(self._n)

    def _answer(self, cmd: str, args: dict) -> dict:
        if cmd == "audio.analyze":
            return analyze(args["path"], args["cache_dir"])  # the real analysis
        if cmd == "audio.play":
            return {"playing": True, "duration": args["end"] - args["start"], "play_id": 7}
        if cmd == "project.open":
            return {"path": args["path"], "sources": self.sources}
        if cmd == "audio.stop":
            return {"stopped": True}
        return {"ok": True}

    def sent(self, cmd: str) -> list[dict]:
        return [a for c, a in self.requests if c == cmd]


@pytest.fixture
def source(unicode_dir) -> dict:
    t = np.arange(int(SR * DURATION)) / SR
    wav = unicode_dir / "take – ü 1.wav"
    sf.write(str(wav), (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), SR)
    return {"id": "abc123", "path": str(wav), "name": wav.name, "duration": DURATION}


@pytest.fixture
def editor(qtbot, unicode_dir, source):
    client = FakeClient(unicode_dir / "cache")
    ed = QtWaveformEditor(client)
    qtbot.addWidget(ed)
    ed.resize(900, 500)
    ed.show()
    ed.open_source(str(unicode_dir), source, None, str(unicode_dir / "cache"))
    qtbot.waitUntil(lambda: ed.model is not None, timeout=5000)
    return ed


def _edits(editor) -> list:
    return [a["segments"] for a in editor._client.sent("project.set_edits")]


def test_open_source_draws_waveform_and_spectrogram(editor, qtbot, source):
    assert editor.model.duration == DURATION and editor.model.to_json() is None
    analyze_args = editor._client.sent("audio.analyze")[0]
    assert analyze_args["path"] == source["path"]
    qtbot.wait(2 * REPAINT_MS)
    x, y = editor.wave_curve.getData()
    assert len(x) > 100 and float(np.max(y)) == pytest.approx(0.5, abs=0.01)
    assert editor.spec_image.image.shape == editor.data.spec.shape
    assert editor.view_range()[1] == pytest.approx(DURATION, abs=0.05)


def test_zoom_changes_envelope_level(editor, qtbot):
    qtbot.wait(2 * REPAINT_MS)
    full_x, _ = editor.wave_curve.getData()
    editor.wave_plot.setXRange(1.0, 1.05, padding=0)
    qtbot.wait(2 * REPAINT_MS)
    x, _ = editor.wave_curve.getData()
    assert x.min() >= 0.9 and x.max() <= 1.15
    data: WaveformData = editor.data
    width = int(editor.wave_vb.width())
    assert data.level_for(1.0, 1.05, width) < data.level_for(0.0, DURATION, width)
    assert editor.scroll.value() > 0
    editor.scroll.setValue(editor.scroll.maximum())
    assert editor.view_range()[1] == pytest.approx(DURATION, abs=0.01)


def test_split_delete_trim_undo_redo(editor, qtbot):
    m = editor.model
    editor.set_cursor(1.0)
    qtbot.keyClick(editor, Qt.Key.Key_S)
    assert m.to_json() == [[0.0, 1.0], [1.0, DURATION]]
    editor.set_selection(2.0, 2.5)
    qtbot.keyClick(editor, Qt.Key.Key_Delete)
    assert m.to_json() == [[0.0, 1.0], [1.0, 2.0], [2.5, DURATION]]
    editor.set_selection(0.5, 3.0)
    qtbot.keyClick(editor, Qt.Key.Key_T)
    assert m.to_json() == [[0.5, 1.0], [1.0, 2.0], [2.5, 3.0]]
    qtbot.keyClick(editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert m.to_json() == [[0.0, 1.0], [1.0, 2.0], [2.5, DURATION]]
    qtbot.keyClick(editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    assert m.to_json() == [[0.5, 1.0], [1.0, 2.0], [2.5, 3.0]]
    editor.undo()
    qtbot.keyClick(editor, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert m.to_json() == [[0.5, 1.0], [1.0, 2.0], [2.5, 3.0]]
    # every edit was saved, in order, with the project path and source id
    sent = editor._client.sent("project.set_edits")
    assert [a["segments"] for a in sent] == [
        [[0.0, 1.0], [1.0, DURATION]],
        [[0.0, 1.0], [1.0, 2.0], [2.5, DURATION]],
        [[0.5, 1.0], [1.0, 2.0], [2.5, 3.0]],
        [[0.0, 1.0], [1.0, 2.0], [2.5, DURATION]],
        [[0.5, 1.0], [1.0, 2.0], [2.5, 3.0]],
        [[0.0, 1.0], [1.0, 2.0], [2.5, DURATION]],
        [[0.5, 1.0], [1.0, 2.0], [2.5, 3.0]],
    ]
    assert all(a["source_id"] == "abc123" and a["path"] == editor._project for a in sent)
    shades = [item for _, item in editor._overlays
              if type(item).__name__ == "LinearRegionItem"]
    assert len(shades) == 2 * 3  # before 0.5, 2..2.5, after 3.0; in both plots


def test_segments_changed_signal(editor, qtbot):
    editor.set_selection(1.0, 2.0)
    with qtbot.waitSignal(editor.segments_changed) as blocker:
        editor.delete_selection()
    assert blocker.args == ["abc123", [[0.0, 1.0], [2.0, DURATION]]]


def test_mouse_drag_selects_and_click_places_cursor(editor):
    editor.wave_vb.sig_dragged.emit(3.0, 1.5, True)
    assert editor.model.selection == (1.5, 3.0)
    assert editor.region.isVisible()
    assert editor.region.getRegion() == pytest.approx((1.5, 3.0))
    editor.wave_vb.sig_clicked.emit(2.25)
    assert editor.model.cursor == 2.25 and editor.model.selection is None
    assert editor.cursor_lines[0].value() == pytest.approx(2.25)


def test_refused_edit_sends_nothing(editor, qtbot):
    editor.set_selection(0.0, DURATION)
    editor.delete_selection()
    assert "remove everything" in editor.status.text()
    assert editor._client.sent("project.set_edits") == []
    editor.set_selection(None)
    editor.trim_to_selection()
    assert "select" in editor.status.text()


def test_save_error_is_shown(editor, qtbot):
    editor._client.fail["project.set_edits"] = "bad segments for take 1.wav"
    editor.set_selection(1.0, 2.0)
    editor.delete_selection()
    qtbot.waitUntil(lambda: "bad segments" in editor.status.text(), timeout=2000)


def test_playback_and_timer_driven_playhead(editor, qtbot):
    editor.set_selection(1.0, 2.0)
    qtbot.keyClick(editor, Qt.Key.Key_Space)
    assert editor._client.sent("audio.play")[-1] == {"path": editor._audio_path,
                                                     "start": 1.0, "end": 2.0}
    qtbot.waitUntil(lambda: editor._play_id == 7, timeout=2000)
    client = editor._client
    qtbot.wait(2 * REPAINT_MS)
    client.sig_event.emit(Event("audio.position", {"t": 1.4, "playing": True, "play_id": 7}))
    # not painted per event: the line moves at the next timer tick
    assert editor.playhead() != pytest.approx(1.4)
    qtbot.waitUntil(lambda: editor.playhead() == pytest.approx(1.4), timeout=1000)
    client.sig_event.emit(Event("audio.position", {"t": 1.9, "playing": True, "play_id": 3}))
    qtbot.wait(2 * REPAINT_MS)
    assert editor.playhead() == pytest.approx(1.4), "events of an older playback are ignored"
    client.sig_event.emit(Event("audio.position", {"t": 1.6, "playing": True, "play_id": 7}))
    client.sig_event.emit(Event("audio.position", {"t": 1.7, "playing": True, "play_id": 7}))
    qtbot.waitUntil(lambda: editor.playhead() == pytest.approx(1.7), timeout=1000)
    client.sig_event.emit(Event("audio.finished", {"t": 2.0, "xruns": 0, "play_id": 7}))
    qtbot.waitUntil(lambda: editor.playhead() is None, timeout=1000)
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert client.sent("audio.stop") == [{}]


def test_audio_device_error_goes_once_playback_works(editor, qtbot):
    info = editor.status.text()
    editor._client.fail["audio.play"] = "no audio output device: plug in headphones"
    editor.play_selection()
    qtbot.waitUntil(lambda: "no audio output device" in editor.status.text(), timeout=2000)
    del editor._client.fail["audio.play"]
    editor.play_selection()
    qtbot.waitUntil(lambda: editor._play_id == 7, timeout=2000)
    assert editor.status.text() == info  # the device works again: the error is gone


def test_split_points_and_pending_edits_are_marked(editor, qtbot):
    assert editor.plots.split_markers == [] and not editor.pending_label.isVisible()
    editor.set_cursor(4.0)
    editor.split_at_cursor()
    markers = editor.plots.split_markers
    assert [round(m.value(), 6) for m in markers] == [4.0, 4.0]  # on both plots
    assert all(len(m.markers) == 2 for m in markers)  # a triangle at each end
    assert editor.pending().splits == [4.0] and editor.pending_label.isVisible()
    assert "run Prepare" in editor.pending_label.text()
    editor.set_selection(10.0, 12.0)
    editor.delete_selection()
    assert editor.plots.pending_regions == [(10.0, 12.0)]
    x, y = next(item for _, item in editor._overlays if type(item).__name__ ==
                "PlotDataItem").getData()
    assert list(x) == [10.0, 12.0] and list(y) == [0.97, 0.97]  # the orange bar
    # prepared with these edits: the markers stay, nothing is pending any more
    editor.set_prepared([[0.0, 4.0], [4.0, 10.0], [12.0, DURATION]])
    assert len(editor.plots.split_markers) == 2 and editor.plots.pending_regions == []
    assert not editor.pending() and not editor.pending_label.isVisible()
    editor.undo()  # the deletion is undone: that is now the pending change
    assert editor.plots.pending_regions == [(10.0, 12.0)]


def test_play_without_selection_plays_from_cursor(editor):
    editor.set_cursor(3.0)
    editor.play_selection()
    assert editor._client.sent("audio.play")[-1]["start"] == 3.0
    assert editor._client.sent("audio.play")[-1]["end"] == DURATION


def test_open_slice_edits_in_source_time(qtbot, unicode_dir, source):
    # the slice file is the part 1.0..3.0 s of a 10 s source, relative to the project
    project = unicode_dir / "proj ü"
    (project / "prepared").mkdir(parents=True)
    t = np.arange(2 * SR) / SR
    sf.write(str(project / "prepared" / "abc123_001_0000.wav"),
             (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), SR)
    client = FakeClient(unicode_dir / "cache", sources=[{"id": "abc123", "duration": 10.0}])
    ed = QtWaveformEditor(client)
    qtbot.addWidget(ed)
    the_slice = {"name": "abc123_001_0000.wav", "path": "prepared/abc123_001_0000.wav",
                 "path_16k": "prepared/x.wav", "start": 1.0, "end": 3.0, "source": "abc123"}
    ed.open_slice(str(project), the_slice, [[0.0, 9.0]], str(unicode_dir / "cache"))
    qtbot.waitUntil(lambda: ed.model is not None, timeout=5000)
    assert client.sent("project.open") == [{"path": str(project)}]
    assert Path(client.sent("audio.analyze")[0]["path"]) == \
        project / "prepared" / "abc123_001_0000.wav"
    assert ed.model.duration == pytest.approx(2.0)
    ed.set_selection(0.5, 1.0)
    ed.delete_selection()
    assert client.sent("project.set_edits")[-1] == {
        "path": str(project), "source_id": "abc123", "segments": [[0.0, 1.5], [2.0, 9.0]]}


def test_analysis_error_is_shown(qtbot, unicode_dir, source):
    client = FakeClient(unicode_dir / "cache")
    client.fail["audio.analyze"] = "'take.wav' is empty (0 bytes)"
    ed = QtWaveformEditor(client)
    qtbot.addWidget(ed)
    ed.open_source(str(unicode_dir), source, None, str(unicode_dir / "cache"))
    qtbot.waitUntil(lambda: "empty" in ed.status.text(), timeout=2000)
    assert ed.model is None and not ed.buttons["play"].isEnabled()
