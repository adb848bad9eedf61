"""Dataset page + waveform editor on the REAL backend: open a source and a slice, edit, save."""

from __future__ import annotations

import json
from pathlib import Path

from desktop.ui.main_window import MainWindow
from tests.project.helpers import run_cli, speech


def test_open_source_and_slice_then_split_is_saved(qtbot, make_client, qsettings,
                                                   tmp_path: Path) -> None:
    takes = tmp_path / "prises de voix ü"
    takes.mkdir()
    speech(takes, "one.wav")
    project = tmp_path / "Mon projet é"
    code, out, err = run_cli("prepare", str(takes), "--project", str(project), "--json")
    assert code == 0, err
    client, _sig = make_client()
    window = MainWindow(client, qsettings)
    qtbot.addWidget(window)
    client.start()
    qtbot.waitUntil(lambda: client.state == "ready", timeout=15000)
    window.controller.open(str(project))
    qtbot.waitUntil(lambda: window.controller.state is not None, timeout=10000)
    page, editor = window.dataset_page, window.waveform_editor
    qtbot.waitUntil(lambda: page.slices_table.rowCount() > 0, timeout=10000)

    page.sources_table.cellDoubleClicked.emit(0, 0)
    qtbot.waitUntil(lambda: editor.model is not None, timeout=15000)
    source = window.controller.state.sources[0]
    assert editor.model.source_id == source["id"]
    assert abs(editor.model.duration - source["duration"]) < 0.05

    page.slices_table.cellDoubleClicked.emit(0, 0)
    first_slice = page.slices_table.rows()[0]
    qtbot.waitUntil(lambda: editor.model is not None and "(slice)" in editor.title.text(),
                    timeout=15000)
    cut = float(first_slice["start"]) + 0.5 * float(first_slice["duration"])
    editor.set_cursor(cut)
    editor.split_at_cursor()
    edits_file = project / "edits.json"

    def saved() -> dict:
        return json.loads(edits_file.read_text(encoding="utf-8")) if edits_file.exists() else {}

    qtbot.waitUntil(lambda: source["id"] in saved(), timeout=10000)
    segments = saved()[source["id"]]["segments"]
    assert len(segments) == 2 and abs(segments[0][1] - cut) < 0.02
    assert window.controller.state.edits[source["id"]]["segments"] == segments

    # the split is marked, and pending until prepare; "Edit saved" says so
    assert editor.pending().splits and editor.plots.split_markers
    assert "Edit saved" in page.message.text()
    editor.undo()  # back to what the clips were cut from: nothing left to apply
    qtbot.waitUntil(lambda: source["id"] not in saved(), timeout=10000)
    assert page.message.text() == "" and not editor.pending()

    # the slice has no pitch yet; once an extraction finishes its curve is asked for again
    qtbot.waitUntil(lambda: "run Extract first" in editor.f0.note.text(), timeout=10000)
    from tests.features.tiny_models import save_tiny_fairseq_hubert

    encoder = tmp_path / "encoders ü" / "hubert tiny.pt"
    save_tiny_fairseq_hubert(encoder)
    job = client.start_job("extract", {"project": str(project), "f0": "pm",
                                       "encoder": str(encoder), "device": "cpu"})
    qtbot.waitUntil(lambda: job.finished, timeout=60000)
    assert job.state == "ok", job.error
    qtbot.waitUntil(lambda: editor.f0.curve_data is not None, timeout=10000)
    assert "run Extract first" not in editor.f0.note.text()
