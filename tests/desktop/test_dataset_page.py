"""The Dataset page on a replayed real import + prepare session, and drag-and-drop."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent

from desktop.ui.jobs_panel import COL_STATUS
from desktop.ui.main_window import MainWindow
from tests.desktop.conftest import fake_command


def _mime(paths: list[Path]) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def _drop(widget, paths: list[Path]) -> QDropEvent:
    mime = _mime(paths)
    enter = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    widget.dragEnterEvent(enter)
    assert enter.isAccepted()
    event = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    widget.dropEvent(event)
    return event


def _received(sig, cmd: str) -> list[dict]:
    prefix = "fake backend received: "
    reqs = [json.loads(s[len(prefix):]) for s in sig.stderr if s.startswith(prefix)]
    return [r for r in reqs if r["cmd"] == cmd]


def test_drop_import_prepare_and_report(qtbot, make_client, qsettings, tmp_path) -> None:
    client, sig = make_client(fake_command("import_prepare.jsonl", tmp_path))
    window = MainWindow(client, qsettings)
    qtbot.addWidget(window)
    page = window.dataset_page
    client.start()
    window.controller.create(str(tmp_path), "My voice", 40000, "rvc")
    qtbot.waitUntil(lambda: window.controller.state is not None, timeout=5000)
    assert window.current_page_key() == "dataset"
    assert _received(sig, "project.create")[0]["args"] == {
        "parent": str(tmp_path), "name": "My voice", "sample_rate": 40000,
        "model_kind": "rvc"}

    takes = tmp_path / "takes ä"
    takes.mkdir()
    assert _drop(page, [takes]).isAccepted()
    qtbot.waitUntil(lambda: page.sources_table.rowCount() == 2, timeout=5000)
    args = _received(sig, "job.start")[0]["args"]
    assert args == {"kind": "import", "args": {"project": str(tmp_path / "My voice"),
                                               "inputs": [str(takes)]}}
    assert "Imported 2 recording(s)" in page.message.text()
    assert page.sources_table.item(0, 0).text().startswith("take ")
    assert page.health_report.report is None

    page.prepare_btn.click()
    assert page.progress.isVisibleTo(page) and not page.prepare_btn.isEnabled()
    qtbot.waitUntil(lambda: page.health_report.report is not None, timeout=5000)
    prep = _received(sig, "job.start")[1]["args"]
    assert prep["kind"] == "prepare" and prep["args"]["settings"]["normalize"] == "peak"
    assert "Prepared 2 source(s)" in page.message.text() and not page.progress.isVisibleTo(page)
    report = page.health_report.report
    assert page.health_report.isVisibleTo(window)
    assert page.health_report.problems.rowCount() == len(report["problems"])
    # clips are named by their recording and place in it, not by the hash in the file name
    clips = [page.health_report.problems.item(r, 0) for r in range(len(report["problems"]))]
    assert sorted(c.text() for c in clips) == ["take 0.wav 0:00.0–0:01.8",
                                                "take 1.wav 0:00.0–0:01.8"]  # report order
    assert clips[0].toolTip() == report["problems"][0]["path"]
    assert page.health_report.recommendation.text() == report["recommendation"]["text"]
    assert page.health_report.clips_label.text() == \
        f"{report['usable_clips']} / {report['clips']}"
    jobs = window.jobs_panel
    assert [j.kind for j in window.jobs.handles()] == ["import", "prepare"]
    for job_id in ("job-1", "job-2"):
        assert jobs.progress_bar(job_id).value() == 1000
        assert jobs.cell_text(job_id, COL_STATUS) == "ok"
    # the prepare job logged warnings: they are in the log panel
    assert "min_chunk_seconds" in window.log_panel.plain_text()

    with qtbot.waitSignal(page.sig_source_activated) as blocker:
        page.sources_table.cellDoubleClicked.emit(1, 0)
    assert blocker.args[0]["name"] == page.sources_table.item(1, 0).text()
    assert blocker.args[0]["sha256"]


def test_drop_without_a_project_says_what_to_do(qtbot, make_client, qsettings, tmp_path) -> None:
    client, sig = make_client(fake_command("hello_ping.jsonl"))
    window = MainWindow(client, qsettings)
    qtbot.addWidget(window)
    files = [tmp_path / "a b.wav", tmp_path / "ç.flac"]
    _drop(window.dataset_page, files)
    assert "Open or create a project first" in window.dataset_page.message.text()
    non_local = QMimeData()
    non_local.setUrls([QUrl("https://example.com/a.wav")])
    enter = QDragEnterEvent(QPoint(1, 1), Qt.DropAction.CopyAction, non_local,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dataset_page.dragEnterEvent(enter)
    assert not enter.isAccepted()


def test_editor_container_takes_the_editor(qtbot, make_client, qsettings) -> None:
    from PySide6.QtWidgets import QLabel

    client, _sig = make_client(fake_command("hello_ping.jsonl"))
    window = MainWindow(client, qsettings)
    qtbot.addWidget(window)
    page = window.dataset_page
    editor = QLabel("editor")
    page.set_editor(editor)
    assert editor.parent() is page.editor_container
    assert page.editor_placeholder.parent() is None
    assert page.splitter.widget(1) is page.editor_container
