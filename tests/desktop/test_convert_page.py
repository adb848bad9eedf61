"""The Convert page on replayed sessions: a batch with a failing file, the waveforms, A/B
playback through audio.play and Save as; the preview; refused and failed starts with their
messages, the asset-missing dialog and a cancel; drops.

convert_batch, convert_preview and convert_failures.jsonl are recorded from the real backend
by tests/desktop/record_convert_sessions.py (tiny RVC files, a hostile pickle, PulseAudio
virtual devices); convert_failures_hand.jsonl is hand-written from docs/protocol.md for a
job that starts and then fails (the real job refuses the start). Expectations (names,
errors, positions) are read from the session, and each test checks that the page sent
exactly the requests (and arguments) the session expects.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from desktop.components.convert_session import ORIGINAL, RESULT
from desktop.components.models_library import ADVICE
from desktop.components.project_state import ProjectState
from desktop.components.settings import AppSettings, JsonSettingsStore
from desktop.ui.convert_page import INTRO, QtConvertPage
from desktop.ui.project_controller import ProjectController
from tests.desktop.conftest import fake_command
from tests.desktop.convert_replay import awaited, events, materialize, replies, sent

pytestmark = pytest.mark.timeout(60)


def _page(qtbot, client, tmp_path: Path) -> QtConvertPage:
    settings = AppSettings(JsonSettingsStore(tmp_path / "settings.json"))
    page = QtConvertPage(client, ProjectController(client, settings), settings)
    page.results.cache_dir = str(tmp_path / "cache ü")
    qtbot.addWidget(page)
    page.resize(1000, 650)
    return page


def _ready(qtbot, client, page: QtConvertPage) -> None:
    client.start()
    page.show()
    qtbot.waitUntil(lambda: page.library.library.loaded, timeout=5000)


def _fill(page: QtConvertPage, msgs: list[dict]) -> dict:
    """Queue the session's inputs and settings as a user would; returns the job args."""
    args = awaited(msgs, "job.start")[0]["args"]
    assert page.add_paths(args["inputs"]) == []
    page.out_edit.setText(args["out"])
    for name, box in page.form.fields.items():
        box.setValue(args[name])
    page.form.f0_method.setCurrentIndex(page.form.f0_method.findData(args["f0_method"]))
    return args


def test_batch_results_waveforms_ab_playback_and_save(qtbot, make_client, tmp_path) -> None:
    msgs = materialize("convert_batch.jsonl", tmp_path)
    client, sig = make_client(fake_command("convert_batch.jsonl", tmp_path))
    page = _page(qtbot, client, tmp_path)
    assert not page.convert_btn.isEnabled() and page.message.text() == INTRO
    _ready(qtbot, client, page)
    _fill(page, msgs)
    assert page.convert_btn.isEnabled()
    page.convert_btn.click()
    job = page.job
    assert job is not None and not page.convert_btn.isEnabled() and page.cancel_btn.isEnabled()
    qtbot.waitUntil(lambda: job.finished, timeout=5000)
    assert sent(sig, "job.start") == awaited(msgs, "job.start")
    files = events(msgs, "convert.file")
    table = page.results.table
    assert table.rowCount() == len(files) == 3
    assert [table.item(r, 0).text() for r in range(3)] == [Path(f["input"]).name for f in files]
    assert table.item(0, 2).text() == f"→ {Path(files[0]['output']).name}"
    assert table.item(1, 2).text() == f"failed: {files[1]['error']}"
    assert page.message.text().startswith("Converted 2 of 3 file(s) into ")
    assert page.message.text().endswith("1 failed: see the list for why.")
    assert page.convert_btn.isEnabled() and not page.cancel_btn.isEnabled()

    results = page.results
    qtbot.waitUntil(lambda: all(results.waves.data.values()), timeout=5000)
    assert sent(sig, "audio.analyze") == awaited(msgs, "audio.analyze")
    for side in (ORIGINAL, RESULT):  # drawn, on plots that are in the view
        curve = results.waves.curves[side]
        assert len(curve.xData) > 10 and curve.scene() is results.waves.scene()

    switch_at = awaited(msgs, "audio.play")[1]["start"]  # the last position before A/B
    second = replies(msgs, "audio.play")[1]["result"]["play_id"]
    results.buttons["result"].click()
    qtbot.waitUntil(lambda: results.ab.position == switch_at, timeout=5000)
    assert results.waves.playhead() == switch_at and results.buttons["stop"].isEnabled()
    results.buttons["ab"].click()  # the original, from where the result had got to
    qtbot.waitUntil(lambda: results.ab.play_id == second and results.ab.playing, timeout=5000)
    assert results.ab.side == ORIGINAL and "Playing the original" in results.status.text()
    results.buttons["stop"].click()
    qtbot.waitUntil(lambda: results.waves.playhead() is None, timeout=5000)
    assert sent(sig, "audio.play") == awaited(msgs, "audio.play")
    assert len(sent(sig, "audio.stop")) == 1

    saved = tmp_path / "saved é" / "mine.wav"
    saved.parent.mkdir()
    names: list[str] = []
    results.pick_save_path = lambda name: names.append(name) or str(saved)
    assert results.save_as() == str(saved)
    output = job.result["outputs"][0]["output"]
    assert names == [Path(output).name]
    assert saved.read_bytes() == Path(output).read_bytes()
    assert results.status.text() == f"Saved a copy as {saved}"

    results.select(1)  # the failed file: its error in words, nothing to play or save
    assert results.status.text() == f"broken.wav: failed: {files[1]['error']}"
    assert not results.buttons["result"].isEnabled() and not results.buttons["save"].isEnabled()
    assert results.buttons["original"].isEnabled()


def test_preview_converts_the_phrase_and_plays_it(qtbot, make_client, tmp_path) -> None:
    msgs = materialize("convert_preview.jsonl", tmp_path)
    client, sig = make_client(fake_command("convert_preview.jsonl", tmp_path))
    page = _page(qtbot, client, tmp_path)
    _ready(qtbot, client, page)
    assert page.library.preview_btn.isEnabled()
    listed = replies(msgs, "models.list")[0]["result"]["models"]
    assert page.library.selected().id == listed[0]["id"]  # the first model is selected
    page.library.preview_btn.click()
    assert not page.library.preview_btn.isEnabled()  # one job at a time
    qtbot.waitUntil(lambda: page.results.ab.play_id == 1, timeout=5000)
    assert sent(sig, "job.start") == awaited(msgs, "job.start")
    assert sent(sig, "audio.play") == awaited(msgs, "audio.play")
    phrase = events(msgs, "convert.file")[0]["input"]
    assert page.results.table.item(0, 0).text() == f"Preview: {Path(phrase).name}"
    assert page.message.text() == "Preview converted; playing it."
    qtbot.waitUntil(lambda: not page.results.ab.playing, timeout=5000)
    assert page.library.preview_btn.isEnabled()


@pytest.mark.parametrize("session", ["convert_failures.jsonl", "convert_failures_hand.jsonl"])
def test_refused_failed_missing_and_cancelled(qtbot, make_client, tmp_path, session) -> None:
    msgs = materialize(session, tmp_path)
    client, sig = make_client(fake_command(session, tmp_path))
    page = _page(qtbot, client, tmp_path)
    _ready(qtbot, client, page)
    _fill(page, msgs)

    for code in ("not_a_voice_model", "unsafe_file"):  # refused, or failed once started
        job = page.start()
        qtbot.waitUntil(lambda j=job: j.finished, timeout=5000)
        text = page.message.text()
        head = "Could not start the conversion" if job.refused else "Conversion failed"
        assert job.error_code == code and text == f"{head}: {job.error_message}\n{ADVICE[code]}"
        assert "b00020" in page.message.styleSheet()
    assert "content encoder" in replies(msgs, "job.start")[0]["error"]["message"]

    job = page.start()
    qtbot.waitUntil(lambda: page.missing_dialog is not None, timeout=5000)
    dialog = page.missing_dialog
    assert dialog.isVisible() and "hubert-base" in dialog.text_label.text()
    assert page.message.text() == "Conversion needs hubert-base, which is not installed."
    dialog.reject()

    job = page.start()
    qtbot.waitUntil(lambda: page.results.table.rowCount() == 1, timeout=5000)
    page.cancel_btn.click()
    assert page.message.text() == "Cancelling…" and not page.cancel_btn.isEnabled()
    qtbot.waitUntil(lambda: job.finished, timeout=5000)
    assert job.state == "cancelled"
    assert page.message.text().startswith("Conversion cancelled")
    done = events(msgs, "convert.file")[0]
    assert page.results.table.item(0, 2).text() == f"→ {Path(done['output']).name}"
    assert sent(sig, "job.start") == awaited(msgs, "job.start")
    assert sent(sig, "job.cancel") == awaited(msgs, "job.cancel")


def _drop(widget, paths: list[str]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(p) for p in paths])
    event = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    widget.dropEvent(event)


def test_dropped_files_and_folders_are_queued(qtbot, make_client, tmp_path) -> None:
    client, _sig = make_client(fake_command("hello_ping.jsonl"))
    page = _page(qtbot, client, tmp_path)
    takes = tmp_path / "takes ü"
    (takes / "inner").mkdir(parents=True)
    (takes / "a.flac").write_bytes(b"x")
    (takes / "notes.txt").write_text("x")
    _drop(page, [str(takes / "a.flac"), str(takes / "inner"), str(takes / "notes.txt")])
    assert page.session.inputs == [str(takes / "a.flac"), str(takes / "inner")]
    assert [page.inputs.list.item(i).text() for i in range(2)] == [
        str(takes / "a.flac"), str(takes / "inner") + "  (folder)"]
    assert page.message.text().startswith("notes.txt is not an audio file")
    page.inputs.list.item(0).setSelected(True)
    page.inputs.remove_btn.click()
    assert page.session.inputs == [str(takes / "inner")]
    page.inputs.pick_files = lambda: [str(takes / "a.flac")]
    page.inputs.pick_folder = lambda: str(takes)
    page.inputs.add_files_btn.click()
    page.inputs.add_folder_btn.click()
    assert page.session.inputs == [str(takes / "inner"), str(takes / "a.flac"), str(takes)]
    assert page.inputs.list.count() == 3
    assert "voice model" in page.convert_btn.toolTip()  # no model listed yet

    state = ProjectState(path=str(tmp_path / "Voice ü"), project={"name": "Voice ü"})
    page.out_edit.clear()
    page.controller.state = state
    page.controller.project_changed.emit(state)
    assert page.out_edit.text() == str(tmp_path / "Voice ü" / "converted")
    assert page.results.cache_dir == state.cache_dir
    assert page.library.library.project == state.path  # listed with its exports when shown


def test_in_the_window_the_jobs_dock_follows_the_pages_handle(qtbot, make_client, qsettings,
                                                              tmp_path) -> None:
    from desktop.ui.jobs_panel import COL_STATUS
    from desktop.ui.main_window import MainWindow

    msgs = materialize("convert_batch.jsonl", tmp_path)
    client, _sig = make_client(fake_command("convert_batch.jsonl", tmp_path))
    window = MainWindow(client, qsettings)
    qtbot.addWidget(window)
    client.start()
    window.show()
    window.show_page("convert")
    page = window.convert_page
    qtbot.waitUntil(lambda: page.library.library.loaded, timeout=5000)
    _fill(page, msgs)
    job = page.start()
    qtbot.waitUntil(lambda: job.finished, timeout=5000)
    assert window.jobs_panel.handle(job.job_id) is job
    assert window.jobs_panel.cell_text(job, COL_STATUS) == "ok"
    assert [h for h in window.jobs.handles() if h.job_id == job.job_id] == [job]


def test_an_export_finishing_lists_the_models_again(qtbot, make_client, tmp_path) -> None:
    client, sig = make_client(fake_command("convert_models.jsonl", tmp_path))
    page = _page(qtbot, client, tmp_path)
    _ready(qtbot, client, page)
    assert len(sent(sig, "models.list")) == 1
    for kind, n in (("train", 1), ("export", 2)):
        client.jobs.apply("job.started", {"job_id": f"job-{kind}", "kind": kind})
        client.jobs.apply("job.finished", {"job_id": f"job-{kind}", "kind": kind,
                                           "status": "ok", "result": {}})
        qtbot.waitUntil(lambda n=n: len(sent(sig, "models.list")) == n, timeout=5000)
    qtbot.wait(100)
    assert len(sent(sig, "models.list")) == 2  # the train job asked nothing
