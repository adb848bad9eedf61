"""The pitch overlay: plot arrays (no Qt), on a real QtWaveformEditor, on the real backend."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from backend.commands import COMMANDS, load_all
from backend.features import store
from backend.features.f0_stats import octave_jump_frames as backend_jumps
from desktop.components.f0_overlay import F0FileError, f0_curve, load_f0, octave_jump_frames
from desktop.ui.f0_overlay import NO_SLICE_NOTE
from desktop.ui.main_window import MainWindow
from desktop.ui.waveform_editor import QtWaveformEditor
from tests.desktop.test_waveform_editor import FakeClient
from tests.train.feature_project import make_feature_project

SR = 40000


# pure arrays ----------------------------------------------------------------------------
def test_curve_has_nan_gaps_times_and_jumps():
    f0 = np.array([0, 100, 101, 0, 0, 200, 405, 410, 205, 0], np.float32)
    curve = f0_curve(f0, offset=1.5)
    assert curve.x == pytest.approx(1.5 + 0.01 * np.arange(10))
    assert np.isnan(curve.y[[0, 3, 4, 9]]).all()
    assert curve.y[[1, 2, 5, 6, 7, 8]] == pytest.approx([100, 101, 200, 405, 410, 205])
    assert list(curve.jump_frames) == [6, 8]  # 200 -> 405 and 410 -> 205; not across gaps
    assert curve.jump_x == pytest.approx([1.56, 1.58])
    assert curve.jump_y == pytest.approx([405, 205])
    assert curve.median_hz == pytest.approx(np.median([100, 101, 200, 405, 410, 205]))
    assert curve.view_top_hz(20000.0) == 1000.0  # at least 0..1 kHz
    assert curve.view_top_hz(500.0) == 500.0  # never above the spectrogram's top
    assert f0_curve(np.array([0, 600.0])).view_top_hz(20000.0) == pytest.approx(1320.0)


def test_unvoiced_track_and_view_floor():
    curve = f0_curve(np.zeros(20))
    assert np.isnan(curve.y).all() and curve.median_hz is None and curve.voiced == 0
    assert len(curve.jump_frames) == 0
    assert f0_curve(np.full(5, 120.0)).view_top_hz(8000.0) == 1000.0


def test_jump_frames_agree_with_the_backend_count():
    rng = np.random.default_rng(3)
    f0 = 150.0 * 2.0 ** rng.choice([-1.0, 0.0, 0.05, 1.0], size=500)
    f0[rng.random(500) < 0.2] = 0.0
    mine = octave_jump_frames(f0)
    assert len(mine) > 20
    assert list(mine) == list(backend_jumps(f0))


def test_load_f0_names_a_bad_file(unicode_dir: Path):
    bad = unicode_dir / "pitch é.npy"
    bad.write_bytes(b"garbage")
    with pytest.raises(F0FileError, match="pitch é.npy"):
        load_f0(bad)
    np.save(bad, np.zeros((4, 2)))
    with pytest.raises(F0FileError, match="not a pitch track"):
        load_f0(bad)


# on the editor --------------------------------------------------------------------------
@pytest.fixture(scope="module", autouse=True)
def _commands():
    assert load_all() == []


@pytest.fixture
def project(unicode_dir: Path) -> Path:
    root = make_feature_project(unicode_dir / "projet ü", clips=2, seconds=1.0,
                                sample_rate=SR)
    path = store.feature_paths(root, "clip01", "v2")["f0"]
    f0 = np.load(path)  # 160 Hz, 1.25 s
    f0[20:30] = 0.0  # an unvoiced gap
    f0[60:70] *= 2.0  # an octave error: jumps at frames 60 and 70
    store.save_npy(path, f0)
    return root


def _features_f0(project: Path, stem: str) -> dict:
    server = SimpleNamespace(state={}, emit=lambda e, d: None)
    return COMMANDS["features.f0"]({"project": str(project), "slice": stem}, server)


@pytest.fixture
def editor(qtbot, project: Path):
    ed = QtWaveformEditor(FakeClient(project / "cache"))
    qtbot.addWidget(ed)
    ed.resize(900, 500)
    ed.show()
    wav = project / "prepared" / "0_gt_wavs" / "clip01.wav"
    the_slice = {"name": wav.name, "path": str(wav), "start": 4.0, "end": 5.25,
                 "source": "src", "source_duration": 60.0}
    ed.open_slice(str(project), the_slice, None, str(project / "cache"))
    qtbot.waitUntil(lambda: ed.model is not None, timeout=5000)
    return ed


def test_curve_is_the_f0_in_hz_at_slice_times(editor, project: Path):
    info = _features_f0(project, "clip01")
    assert info["octave_jumps"] == 2
    editor.show_f0(info)
    f0 = np.load(info["path"])
    x, y = editor.f0.shown_data()
    assert x == pytest.approx(0.01 * np.arange(len(f0)))  # the clip's own time (x axis)
    voiced = f0 > 0
    assert y[voiced] == pytest.approx(f0[voiced]) and np.isnan(y[~voiced]).all()
    assert x[-1] == pytest.approx(editor.model.duration, abs=0.011)
    jx, jy = editor.f0.jumps.getData()
    assert jx == pytest.approx([0.60, 0.70]) and jy == pytest.approx([320.0, 160.0])
    assert editor.f0.curve.isVisible() and editor.f0.jumps.isVisible()
    text = editor.f0.note.text()
    assert "pm" in text and "median 160 Hz" in text and "2 octave jumps" in text
    legend = [label.text for _sample, label in editor.f0.legend.items]
    assert any("2 octave jumps" in t for t in legend)
    # the spectrogram's y axis is linear Hz up to fmax; the pitch zooms it to its range
    assert editor.data.spec_fmax == pytest.approx(SR / 2)
    assert editor.spec_plot.viewRange()[1] == pytest.approx([0.0, 1000.0])


def test_show_pitch_toggles_the_overlay(editor, project: Path, qtbot):
    editor.show_f0(_features_f0(project, "clip01"))
    editor.f0.check.setChecked(False)
    assert not editor.f0.curve.isVisible() and not editor.f0.jumps.isVisible()
    assert not editor.f0.legend.isVisible()
    assert editor.spec_plot.viewRange()[1] == pytest.approx([0.0, editor.data.spec_fmax])
    editor.f0.check.setChecked(True)
    assert editor.f0.curve.isVisible()
    assert editor.spec_plot.viewRange()[1][1] == pytest.approx(1000.0)


def test_no_features_and_new_file_clear_the_curve(editor, project: Path):
    editor.show_f0(_features_f0(project, "clip01"))
    editor.show_f0({"path": None, "reason": "no pitch for clip01 yet: run Extract first"})
    assert not editor.f0.curve.isVisible() and not editor.f0.check.isEnabled()
    assert "run Extract first" in editor.f0.note.text()
    editor.show_f0(_features_f0(project, "clip01"))
    editor.open_source(str(project), {"id": "s", "path": str(project / "prepared" / "0_gt_wavs"
                                                             / "clip00.wav")}, None,
                       str(project / "cache"))
    assert editor.f0.curve_data is None and not editor.f0.curve.isVisible()


def test_dataset_page_requests_pitch_from_the_real_backend(qtbot, make_client, qsettings,
                                                           project: Path):
    client, _sig = make_client()
    window = MainWindow(client, qsettings)
    qtbot.addWidget(window)
    client.start()
    qtbot.waitUntil(lambda: client.state == "ready", timeout=15000)
    window.controller.open(str(project))
    qtbot.waitUntil(lambda: window.controller.state is not None, timeout=10000)
    page, editor = window.dataset_page, window.waveform_editor
    wav = project / "prepared" / "0_gt_wavs" / "clip01.wav"
    page.slices_table.sig_slice_activated.emit(
        {"name": wav.name, "path": str(wav), "start": 0.0, "end": 1.25, "source": "src",
         "source_duration": 1.25})
    qtbot.waitUntil(lambda: editor.f0.curve_data is not None and editor.model is not None,
                    timeout=15000)
    assert list(editor.f0.curve_data.jump_frames) == [60, 70]
    assert "2 octave jumps" in editor.f0.note.text()
    # whichever answer came first (analysis or pitch), the spectrogram ends zoomed to the pitch
    assert editor.spec_plot.viewRange()[1] == pytest.approx([0.0, 1000.0])
    page.sig_source_activated.emit({"id": "src", "path": str(wav), "name": "whole take"})
    assert editor.f0.curve_data is None and editor.f0.note.text() == NO_SLICE_NOTE
