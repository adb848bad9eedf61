"""The Labels page's transcribe panel: real widgets offscreen on replayed backend sessions.

transcribe_real_run.jsonl and transcribe_real_cancel.jsonl are recorded from the real backend
by record_transcribe_sessions.py (pocketsphinx on a prepared project of espeak-ng speech);
transcribe_run_hand.jsonl and transcribe_missing_hand.jsonl are hand-written from the
protocol contract for what a recording cannot give (Whisper models, a download, a refused
start; see their note lines). The tests check that the panel sent exactly the session's
requests and show what the session's events say.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QHBoxLayout, QSplitter, QTableWidget, QWidget

from backend.protocol import Event
from desktop.components.project_state import ProjectState
from desktop.components.settings import AppSettings, JsonSettingsStore
from desktop.components.transcribe_settings import SETTINGS_KEY, EngineList
from desktop.ui.labels_transcribe import COALESCE_MS, INTRO, QtTranscribePanel, same_path
from desktop.ui.project_controller import ProjectController
from desktop.ui.scrolling import vertical_scroll
from tests.desktop.conftest import SESSIONS, fake_command
from tests.desktop.layout_checks import settled_problems
from tests.desktop.record_transcribe_sessions import WHISPER_FOLDER
from tests.desktop.test_layout import LONG, status_labels

pytestmark = pytest.mark.timeout(60)
PROJECT = "My voice ü"


def _received(sig, cmd: str) -> list[dict]:
    prefix = "fake backend received: "
    reqs = [json.loads(s[len(prefix):]) for s in sig.stderr if s.startswith(prefix)]
    return [r for r in reqs if r["cmd"] == cmd]


def _session(name: str, folder: Path) -> list[dict]:
    text = (SESSIONS / name).read_text(encoding="utf-8")
    text = text.replace("$PROJECT", json.dumps(str(folder), ensure_ascii=False)[1:-1])
    return [json.loads(x) for x in text.splitlines() if x.strip()]


def _engines_reply(session: str, n: int = 0) -> dict:
    replies = [m["result"] for m in _session(session, Path("/")) if m.get("type") == "result"
               and "engines" in m.get("result", {})]
    return replies[n]


def _recorded(session: list[dict], cmd: str) -> list[dict]:
    """The args of each ``await`` of ``cmd`` in a recorded session."""
    return [m["args"] for m in session if m.get("fake") == "await" and m["cmd"] == cmd]


def _finished(session: list[dict]) -> list[dict]:
    return [m["data"] for m in session if m.get("event") == "job.finished"]


class Panel:
    """A panel on a fake backend, with what it said and emitted."""

    def __init__(self, qtbot, client, tmp_path: Path) -> None:
        self.settings = AppSettings(JsonSettingsStore(tmp_path / "settings ü.json"))
        self.controller = ProjectController(client, self.settings)
        self.panel = QtTranscribePanel(client, self.controller, self.settings)
        qtbot.addWidget(self.panel)
        self.said: list[str] = []
        original = self.panel._say
        self.panel._say = lambda text, error=False: (self.said.append(text),
                                                     original(text, error))
        self.changed: list[int] = []
        self.panel.sig_labels_changed.connect(lambda: self.changed.append(1))
        self.state = ProjectState(path=str(tmp_path / PROJECT), project={"name": PROJECT})

    def open_project(self) -> None:
        self.controller.state = self.state
        self.controller.project_changed.emit(self.state)


def _start(qtbot, make_client, tmp_path, session: str) -> tuple[Panel, object, object]:
    client, sig = make_client(fake_command(session, tmp_path))
    p = Panel(qtbot, client, tmp_path)
    assert not p.panel.transcribe_btn.isEnabled()  # no project yet
    p.open_project()
    client.start()
    p.panel.show()
    qtbot.waitUntil(lambda: p.panel.engines is not None, timeout=5000)
    return p, client, sig


def test_transcribe_follows_the_job_and_says_what_it_did(qtbot, make_client, tmp_path) -> None:
    p, client, sig = _start(qtbot, make_client, tmp_path, "transcribe_run_hand.jsonl")
    form, panel = p.panel.form, p.panel
    assert [form.engine.itemText(i) for i in range(form.engine.count())] == [
        e["title"] for e in _engines_reply("transcribe_run_hand.jsonl")["engines"]]
    assert form.model.currentText() == "en-us (installed)"
    assert form.language.currentText() == "English (en)" and not form.language.isEnabled()
    assert form.note.text() == "Works offline, no download; English (en) only."
    cuda = form.device.model().item(form.device.findData("cuda"))
    assert not cuda.isEnabled()  # the hello lists no CUDA device
    assert panel.transcribe_btn.isEnabled() and not panel.cancel_btn.isEnabled()

    panel.transcribe_btn.click()
    qtbot.waitUntil(lambda: panel.job is not None and panel.job.finished, timeout=5000)
    assert _received(sig, "job.start")[0]["args"] == {"kind": "transcribe", "args": {
        "project": p.state.path, "engine": "pocketsphinx", "model": "en-us", "language": "en"}}
    assert panel.job in client.jobs.handles()  # the one handle, the Jobs dock's too
    assert "transcribing take 0.wav 0:00.0–0:02.1 — 2.1 of 6.3 s of audio, 4 s left" in p.said
    assert panel.message.text() == ("Transcribed 3 clip(s) in 6.3 s; 0 skipped (done before, "
                                    "or your text); 1 flagged for review.")
    assert p.changed  # the job ended: the table reloads
    assert panel.progress.isHidden() and panel.transcribe_btn.isEnabled()
    assert p.settings.store.get(SETTINGS_KEY) == {"engine": "pocketsphinx", "model": "en-us",
                                                  "language": "en", "device": "auto",
                                                  "cut_long": None}
    p.open_project()  # the same project again: the result stays
    assert panel.message.text().startswith("Transcribed 3 clip(s)")
    p.controller.state = None
    p.controller.project_changed.emit(None)
    assert panel.message.text() == INTRO and not panel.transcribe_btn.isEnabled()


def test_real_run_then_a_rerun_that_skips_every_clip(qtbot, make_client, tmp_path) -> None:
    session = _session("transcribe_real_run.jsonl", tmp_path)
    p, client, sig = _start(qtbot, make_client, tmp_path, "transcribe_real_run.jsonl")
    panel = p.panel
    panel.transcribe_btn.click()
    qtbot.waitUntil(lambda: panel.job is not None and panel.job.finished, timeout=10000)
    first = panel.job
    assert first.state == "ok" and p.changed
    qtbot.waitUntil(panel.transcribe_btn.isEnabled, timeout=2000)
    panel.transcribe_btn.click()
    qtbot.waitUntil(lambda: panel.job is not first and panel.job.finished, timeout=10000)
    assert [r["args"] for r in _received(sig, "job.start")] == _recorded(session, "job.start")
    assert len(_received(sig, "transcribe.engines")) == len(_recorded(session,
                                                                       "transcribe.engines"))
    results = [f["result"] for f in _finished(session)]
    progress = [m["data"] for m in session if m.get("event") == "job.progress"
                and m["data"].get("detail")][0]
    assert any(said.startswith(f"transcribing {progress['detail']} — {progress['done']:.1f} "
                               f"of {progress['total']:.1f} s of audio") for said in p.said)
    assert any(said.startswith(f"Transcribed {results[0]['transcribed']} clip(s) in "
                               f"{results[0]['seconds']:.1f} s") for said in p.said)
    assert panel.message.text() == ("Transcribed 0 clip(s) in 0.0 s; "
                                    f"{results[1]['skipped']} skipped (done before, or your "
                                    "text).")


def test_real_cancel_keeps_what_was_saved(qtbot, make_client, tmp_path) -> None:
    session = _session("transcribe_real_cancel.jsonl", tmp_path)
    p, _client, sig = _start(qtbot, make_client, tmp_path, "transcribe_real_cancel.jsonl")
    panel = p.panel
    panel.transcribe_btn.click()
    qtbot.waitUntil(lambda: panel.job is not None and panel.job.done > 0, timeout=10000)
    assert panel.progress.isVisible() and panel.progress.maximum() == 1000
    panel.cancel_btn.click()
    assert panel.message.text() == "Cancelling…" and not panel.cancel_btn.isEnabled()
    qtbot.waitUntil(lambda: panel.job.finished, timeout=10000)
    assert [r["args"] for r in _received(sig, "job.cancel")] == _recorded(session, "job.cancel")
    assert _finished(session)[-1]["status"] == panel.job.state == "cancelled"
    assert panel.message.text() == ("Transcription cancelled; the clips transcribed so far "
                                    "are saved.")
    assert p.changed


def test_real_whisper_run_with_a_model_folder(qtbot, make_client, tmp_path) -> None:
    session = _session("transcribe_real_whisper.jsonl", tmp_path)
    p, _client, sig = _start(qtbot, make_client, tmp_path, "transcribe_real_whisper.jsonl")
    form, panel = p.panel.form, p.panel
    form.engine.setCurrentIndex(form.engine.findData("faster-whisper"))
    form.language.setCurrentIndex(form.language.findData(None))  # detect
    form.pick_model_folder = lambda: str(tmp_path / WHISPER_FOLDER)
    form.model.activated.emit(form.model.findData("__folder__"))
    assert form.model.currentText() == WHISPER_FOLDER.name
    panel.transcribe_btn.click()
    qtbot.waitUntil(lambda: panel.job is not None and panel.job.finished, timeout=10000)
    assert panel.missing_dialog is None  # a folder needs no download
    assert [r["args"] for r in _received(sig, "job.start")] == _recorded(session, "job.start")
    result = _finished(session)[-1]["result"]
    assert panel.message.text().startswith(f"Transcribed {result['transcribed']} clip(s)")
    assert p.settings.store.get(SETTINGS_KEY)["model"] == str(tmp_path / WHISPER_FOLDER)


def test_labels_changed_of_the_open_project_reaches_the_table_coalesced(qtbot, make_client,
                                                                        tmp_path) -> None:
    p, client, _sig = _start(qtbot, make_client, tmp_path, "transcribe_run_hand.jsonl")
    p.changed.clear()
    other = Event("labels.changed", {"project": str(tmp_path / "Another"), "revision": 2})
    client.sig_event.emit(other)
    qtbot.wait(COALESCE_MS + 100)
    assert p.changed == []
    ours = Event("labels.changed", {"project": str(tmp_path / PROJECT / "."), "revision": 3})
    for _ in range(5):
        client.sig_event.emit(ours)
    qtbot.waitUntil(lambda: p.changed == [1], timeout=2000)
    qtbot.wait(COALESCE_MS + 100)
    assert p.changed == [1]  # five events, one reload
    assert same_path(str(tmp_path / PROJECT), str(tmp_path / "x" / ".." / PROJECT))
    assert not same_path(None, str(tmp_path))


def test_a_model_to_download_then_a_refused_start_then_cancel(qtbot, make_client,
                                                              tmp_path) -> None:
    p, client, sig = _start(qtbot, make_client, tmp_path, "transcribe_missing_hand.jsonl")
    form, panel = p.panel.form, p.panel
    form.engine.setCurrentIndex(form.engine.findData("faster-whisper"))
    assert form.model.currentText() == "tiny — 78.2 MB to download"
    assert form.note.text() == ("tiny is not installed: Transcribe offers to download it "
                                "(78.2 MB).")
    # the language carries over when the new engine has it; Whisper can also detect it
    assert form.language.currentText() == "English (en)" and form.language.isEnabled()
    assert form.language.itemText(0) == "Detect automatically"
    form.language.setCurrentIndex(0)

    panel.transcribe_btn.click()
    qtbot.waitUntil(lambda: panel.missing_dialog is not None, timeout=5000)
    dialog = panel.missing_dialog
    assert dialog.isVisible() and "whisper-tiny" in dialog.text_label.text()
    assert dialog.download_btn.text() == "Download (78.2 MB)"
    assert _received(sig, "job.start") == []  # nothing starts while the model is missing
    dialog.download_btn.click()
    qtbot.waitUntil(dialog.retry_btn.isEnabled, timeout=5000)
    assert _received(sig, "job.start")[0]["args"] == {
        "kind": "assets", "args": {"action": "download", "name": "whisper-tiny"}}
    qtbot.waitUntil(lambda: form.model.currentText() == "tiny (installed)", timeout=5000)

    dialog.retry_btn.click()  # the model vanished meanwhile: the start is refused
    qtbot.waitUntil(lambda: panel.missing_dialog is not dialog
                    and panel.missing_dialog is not None, timeout=5000)
    assert panel.message.text() == "Transcription needs whisper-tiny, which is not installed."
    assert p.changed == []  # a refused start saved nothing
    panel.missing_dialog.reject()

    panel.transcribe_btn.click()
    qtbot.waitUntil(lambda: panel.cancel_btn.isEnabled() and panel.job.done > 0, timeout=5000)
    assert not form.isEnabled() and not panel.transcribe_btn.isEnabled()
    panel.cancel_btn.click()
    qtbot.waitUntil(lambda: panel.job.finished, timeout=5000)
    starts = [r["args"] for r in _received(sig, "job.start")]
    assert starts[1:] == [{"kind": "transcribe", "args": {
        "project": p.state.path, "engine": "faster-whisper", "model": "tiny"}}] * 2
    assert _received(sig, "job.cancel")[0]["args"] == {"job_id": "job-2"}
    assert panel.message.text() == ("Transcription cancelled; the clips transcribed so far "
                                    "are saved.")
    assert p.changed and panel.transcribe_btn.isEnabled() and form.isEnabled()
    again = QtTranscribePanel(client, p.controller, p.settings)  # the app opened again
    qtbot.addWidget(again)
    again.form.set_engines(EngineList.from_result(_engines_reply(
        "transcribe_missing_hand.jsonl")))
    assert again.form.values().engine == "faster-whisper" and again.form.values().model == "tiny"


def test_a_model_folder_and_cut_long(qtbot, make_client, tmp_path) -> None:
    client, _sig = make_client(fake_command("hello_ping.jsonl"))
    p = Panel(qtbot, client, tmp_path)
    form = p.panel.form
    reply = _engines_reply("transcribe_run_hand.jsonl")
    funasr = {"name": "funasr", "title": "FunASR", "languages": ["zh"], "offline": False,
              "available": False, "problem": "the funasr package is not installed",
              "models": []}
    form.set_engines(EngineList.from_result({**reply, "engines": [*reply["engines"], funasr]}))
    item = form.engine.model().item(form.engine.findData("funasr"))
    assert not item.isEnabled()
    assert item.toolTip() == "FunASR cannot run: the funasr package is not installed"
    form.engine.setCurrentIndex(form.engine.findData("faster-whisper"))
    folder = str(tmp_path / "models ü" / "whisper large 声")
    form.pick_model_folder = lambda: folder
    form.model.activated.emit(form.model.findData("__folder__"))
    assert form.model.currentText() == "whisper large 声" and form.values().model == folder
    assert form.note.text() == f"The model in {folder}."
    form.cut.setChecked(True)
    form.cut_seconds.setValue(45)
    form.redo.setChecked(True)
    assert form.values().to_job_args("/p", form.engines) == {
        "project": "/p", "engine": "faster-whisper", "model": folder, "language": "en",
        "redo": True, "cut_long": 45.0}
    form.model.setCurrentIndex(form.model.findData("large-v3"))
    form.model.setCurrentIndex(form.model.findData("__folder__"))
    form.pick_model_folder = lambda: ""  # cancelled: the model chosen before
    form.model.activated.emit(form.model.findData("__folder__"))
    assert form.values().model == "large-v3"


@pytest.mark.parametrize("size", [(1024, 700), (1024, 420), (1920, 1080)],
                         ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_panel_fits_narrow_beside_a_table(qtbot, make_client, tmp_path, size) -> None:
    p, _client, _sig = _start(qtbot, make_client, tmp_path, "transcribe_run_hand.jsonl")
    panel = p.panel
    assert panel.minimumSizeHint().width() <= 260, panel.minimumSizeHint()
    host = QWidget()
    qtbot.addWidget(host)
    splitter = QSplitter()
    splitter.setChildrenCollapsible(False)
    splitter.addWidget(QTableWidget(40, 6))
    splitter.addWidget(vertical_scroll(panel, frame=False))  # the page's side column
    QHBoxLayout(host).addWidget(splitter)
    host.resize(*size)
    host.show()
    qtbot.waitExposed(host)
    splitter.setSizes([size[0] - 270, 270])  # as narrow as the user may drag it
    p.panel.form.engine.setCurrentIndex(p.panel.form.engine.findData("faster-whisper"))
    for label in status_labels(panel):
        label.setText(LONG)
    QApplication.processEvents()
    assert settled_problems(qtbot, host) == []
    assert (host.width(), host.height()) == size, "the window grew"
    assert panel.width() <= 270
    assert panel.transcribe_btn.isVisibleTo(host)
    panel.setParent(None)  # the test's panel: qtbot closes it, not the host's deletion
