"""The Speak page on replayed sessions: the models listed, the reading preview, a speech
with a speaker, speed and variation, played to its end, played again and stopped, saved;
the same in the voice of a voice-conversion model; imports, an unreadable character,
refused and failed starts with their messages, the asset-missing dialog and a cancel.

speak_run, speak_voice and speak_failures.jsonl are recorded from the real backend by
tests/desktop/record_speak_sessions.py (tiny random VITS and RVC files, a hostile pickle,
PulseAudio virtual devices). Names, errors and numbers are read from the session, and each
test checks that the page sent exactly the requests (and arguments) the session expects.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from desktop.components.settings import AppSettings, JsonSettingsStore
from desktop.components.speak_session import ADVICE
from desktop.components.speak_settings import NO_TEXT, SETTINGS_KEY, speed_position
from desktop.ui.project_controller import ProjectController
from desktop.ui.speak_page import INTRO, QtSpeakPage
from tests.desktop.conftest import fake_command
from tests.desktop.convert_replay import awaited, events, messages, replies, sent, write_wav

pytestmark = pytest.mark.timeout(60)


def _materialize(name: str, folder: Path) -> list[dict[str, Any]]:
    """The session's messages; the wav of each spoken result written in ``folder``."""
    msgs = messages(name, folder)
    for data in events(msgs, "job.finished"):
        out = (data.get("result") or {}).get("out")
        if out and Path(out).is_relative_to(folder):
            write_wav(Path(out), seconds=float(data["result"]["seconds"]))
    return msgs


def _page(qtbot, client, tmp_path: Path) -> QtSpeakPage:
    settings = AppSettings(JsonSettingsStore(tmp_path / "settings.json"))
    page = QtSpeakPage(client, ProjectController(client, settings), settings)
    qtbot.addWidget(page)
    page.resize(1000, 650)
    return page


def _ready(qtbot, client, page: QtSpeakPage) -> None:
    client.start()
    page.show()
    qtbot.waitUntil(lambda: page.form.models_loaded and page.form.voices_loaded, timeout=10000)


def _choose(combo, data: Any) -> None:
    """Pick the item holding ``data`` as a user does (``activated``)."""
    index = combo.findData(data)
    assert index >= 0, f"{data!r} is not offered"
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def _type(qtbot, page: QtSpeakPage, text: str) -> None:
    """Type the text; wait for its reading preview."""
    page.text.setPlainText(text)
    qtbot.waitUntil(lambda: page.preview.shown is not None and page.preview.shown[0] == text,
                    timeout=5000)


def _fill(qtbot, page: QtSpeakPage, args: dict[str, Any]) -> None:
    """The form set as the session's ``speak`` job was started, then the text typed."""
    model = next(m for m in page.form.models if m.path == args["model"])
    _choose(page.form.model_combo, model.id)
    if "speaker" in args:
        _choose(page.form.speaker_combo, args["speaker"])
    page.form.speed.setValue(speed_position(args["length_scale"]))
    if args["noise_scale"] != page.form.settings.noise_scale:
        page.form.variation.setValue(round(args["noise_scale"] * 100))
    _choose(page.form.voice_combo, args.get("voice"))
    if "voice_key" in args:
        page.form.key.setValue(args["voice_key"])
    _type(qtbot, page, args["text"])


def _outcome(msgs: list[dict[str, Any]], n: int) -> dict[str, Any]:
    """The error of the ``n``-th ``speak`` start: its refusal, else its job's end."""
    reply = replies(msgs, "job.start")[n]
    if reply["type"] == "error":
        return reply["error"]
    job_id = reply["result"]["job_id"]
    return next(e["error"] for e in events(msgs, "job.finished") if e["job_id"] == job_id)


def _speak_args(msgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [a["args"] for a in awaited(msgs, "job.start")]


def test_speak_play_again_stop_and_save(qtbot, make_client, tmp_path) -> None:
    msgs = _materialize("speak_run.jsonl", tmp_path)
    client, sig = make_client(fake_command("speak_run.jsonl", tmp_path))
    page = _page(qtbot, client, tmp_path)
    assert page.message.text() == INTRO and not page.buttons["speak"].isEnabled()
    _ready(qtbot, client, page)
    listed = replies(msgs, "tts.models")[0]["result"]["models"]
    assert [page.form.model_combo.itemData(i) for i in range(page.form.model_combo.count())] \
        == [m["id"] for m in listed]
    voices = [m["name"] for m in replies(msgs, "models.list")[0]["result"]["models"]
              if m.get("kind") != "tts"]
    combo = page.form.voice_combo
    assert [combo.itemText(i) for i in range(1, combo.count())] == voices
    assert page.buttons["speak"].toolTip() == NO_TEXT
    assert not page.buttons["play"].isEnabled() and not page.buttons["save"].isEnabled()

    args = _speak_args(msgs)[0]
    _fill(qtbot, page, args)
    chorus = page.form.model()
    assert chorus is not None and chorus.speakers == ("Anna ü", "Bob")
    assert page.form.speed_label.text() == "1.41× faster"
    preview = replies(msgs, "text.preview")[0]["result"]
    assert page.preview.normalized.text() == preview["normalized"]
    assert page.preview.phonemes.text() == preview["phonemes"]
    assert sent(sig, "text.preview") == awaited(msgs, "text.preview")

    shown: list[str] = []  # the message after each event (the page hears them first)
    client.sig_event.connect(lambda _ev: shown.append(page.message.text()))
    page.buttons["speak"].click()
    job = page.job
    assert job is not None and not page.buttons["speak"].isEnabled()
    assert page.buttons["stop"].isEnabled() and not page.form.isEnabled()
    qtbot.waitUntil(lambda: job.finished, timeout=10000)
    assert sent(sig, "job.start") == awaited(msgs, "job.start")
    result = job.result
    spoken = f"Spoke 3 sentences ({result['seconds']:.1f} s) as Bob."
    first, again = (r["result"]["play_id"] for r in replies(msgs, "audio.play"))
    qtbot.waitUntil(lambda: page.session.play_id == first and not page.session.playing,
                    timeout=10000)  # played to its end
    assert page.message.text() == spoken
    assert page.buttons["play"].isEnabled() and page.form.isEnabled()
    assert page.buttons["play"].toolTip() == "Play what was spoken last again."
    page.text.setPlainText(args["text"] + " More.")
    assert page.buttons["play"].toolTip().endswith("changed since: Speak to hear it.")
    page.text.setPlainText(args["text"])
    sentences = result["sentences"]
    assert "Speaking sentence 2 of 3…" in shown and f"{spoken} Playing it." in shown
    second = [s for s in shown if s.startswith("Playing ") and "sentence 2 of 3, "
              f"“{sentences[1]['text']}”" in s]
    assert second, "the sentence playing was never named"

    page.buttons["play"].click()  # again, then Stop
    qtbot.waitUntil(lambda: page.session.play_id == again, timeout=5000)
    assert page.message.text().startswith("Playing 0:00.")
    assert page.buttons["stop"].isEnabled()
    page.buttons["stop"].click()
    assert not page.buttons["stop"].isEnabled() and page.message.text() == spoken
    qtbot.waitUntil(lambda: len(sent(sig, "audio.stop")) == 1, timeout=5000)
    assert sent(sig, "audio.play") == awaited(msgs, "audio.play")

    saved = tmp_path / "saved é" / "speech.wav"
    saved.parent.mkdir()
    names: list[str] = []
    page.pick_save_path = lambda name: names.append(name) or str(saved)
    assert page.save_as() == str(saved)
    assert names == [Path(result["out"]).name]
    assert saved.read_bytes() == Path(result["out"]).read_bytes()
    assert page.message.text() == f"Saved a copy as {saved}"
    Path(result["out"]).unlink()  # the cache keeps the newest speeches only
    assert page.save_as(str(tmp_path / "again.wav")) is None
    assert page.message.text().startswith(f"The spoken file {result['out']} is no longer")
    assert not (tmp_path / "again.wav").exists()

    stored = page.app_settings.store.get(SETTINGS_KEY)
    assert (stored["model_id"], stored["speaker"], stored["length_scale"],
            stored["noise_scale"]) == (chorus.id, "Bob", args["length_scale"],
                                       args["noise_scale"])


def test_speak_in_the_voice_of_a_voice_model(qtbot, make_client, tmp_path) -> None:
    msgs = _materialize("speak_voice.jsonl", tmp_path)
    client, sig = make_client(fake_command("speak_voice.jsonl", tmp_path))
    page = _page(qtbot, client, tmp_path)
    _ready(qtbot, client, page)
    args = _speak_args(msgs)[0]
    assert not page.form.key.isEnabled()  # no voice chosen yet
    _fill(qtbot, page, args)
    assert page.form.key.isEnabled() and page.form.key.value() == 5
    said: list[str] = []
    job = page.start()
    assert job is not None
    job.subscribe(lambda *_a: said.append(page.message.text()))
    qtbot.waitUntil(lambda: job.finished, timeout=10000)
    assert sent(sig, "job.start") == awaited(msgs, "job.start")
    assert "Converting into the voice of My voice ü…" in said
    assert any(s.startswith("Speaking sentence") for s in said)
    qtbot.waitUntil(lambda: page.session.play_id is not None and not page.session.playing,
                    timeout=10000)
    assert page.message.text().endswith(", in the voice of My voice ü.")
    assert sent(sig, "audio.play") == awaited(msgs, "audio.play")


def test_imports_unreadable_text_failures_missing_asset_and_cancel(qtbot, make_client,
                                                                   tmp_path) -> None:
    msgs = _materialize("speak_failures.jsonl", tmp_path)
    client, sig = make_client(fake_command("speak_failures.jsonl", tmp_path))
    page = _page(qtbot, client, tmp_path)
    _ready(qtbot, client, page)
    imports = awaited(msgs, "models.import")
    answers = replies(msgs, "models.import")
    page.form.pick_model_file = lambda: imports[0]["path"]
    page.form.import_btn.click()
    qtbot.waitUntil(lambda: "Could not import" in page.message.text(), timeout=5000)
    assert answers[0]["error"]["code"] == "unsafe_file"
    assert page.message.text() == (f"Could not import {imports[0]['path']}: "
                                   f"{answers[0]['error']['message']}\nNothing in it ran. A "
                                   "model never needs to run code when it is opened: get it "
                                   "from a source you trust.")
    voices = page.form.voice_combo.count()
    page.form.import_model(imports[1]["path"])  # a voice model: listed under In the voice of
    qtbot.waitUntil(lambda: page.form.voice_combo.count() == voices + 1, timeout=5000)
    assert "is a voice-conversion model, not text-to-speech" in page.message.text()

    bad, *_ = (a["text"] for a in awaited(msgs, "text.preview"))
    _type(qtbot, page, bad)
    assert "“☃” U+2603 SNOWMAN" in page.preview.unsupported.text()

    args = _speak_args(msgs)
    _fill(qtbot, page, args[0])
    for n, code in enumerate(("unsafe_file", "not_found")):  # replaced by a hostile pickle,
        expected = _outcome(msgs, n)                           # then deleted
        job = page.start()
        qtbot.waitUntil(lambda j=job: j.finished, timeout=10000)
        head = "Could not start speaking" if job.refused else "Speaking failed"
        assert job.error_code == expected["code"] == code
        assert page.message.text() == f"{head}: {expected['message']}\n{ADVICE[code]}"
        assert "b00020" in page.message.styleSheet()
    assert "it was not loaded" in _outcome(msgs, 0)["message"]

    _choose(page.form.voice_combo, args[2]["voice"])
    page.start()
    qtbot.waitUntil(lambda: page.missing_dialog is not None, timeout=10000)
    dialog = page.missing_dialog
    assert dialog.isVisible() and "hubert-base" in dialog.text_label.text()
    assert page.message.text() == ("Speaking in another voice needs hubert-base, which is "
                                   "not installed.")
    dialog.reject()

    _choose(page.form.voice_combo, None)
    _type(qtbot, page, args[3]["text"])
    job = page.start()
    qtbot.waitUntil(lambda: job.stage == "speaking" and job.done >= 1, timeout=10000)
    assert page.message.text().startswith("Speaking sentence ")
    page.buttons["stop"].click()
    assert page.message.text() == "Cancelling…" and not page.buttons["stop"].isEnabled()
    qtbot.waitUntil(lambda: job.finished, timeout=10000)
    assert job.state == "cancelled" and page.message.text() == "Speaking cancelled."
    assert sent(sig, "job.start") == awaited(msgs, "job.start")
    assert sent(sig, "job.cancel") == awaited(msgs, "job.cancel")
    assert sent(sig, "text.preview") == awaited(msgs, "text.preview")


def test_the_lists_follow_exports_and_the_project(qtbot, make_client, tmp_path) -> None:
    from desktop.components.project_state import ProjectState

    client, sig = make_client(fake_command("speak_run.jsonl", tmp_path))
    page = _page(qtbot, client, tmp_path)
    _ready(qtbot, client, page)
    assert len(sent(sig, "tts.models")) == 1
    for kind, n in (("train", 1), ("export", 2)):  # an export is listed at once
        client.jobs.apply("job.started", {"job_id": f"job-{kind}", "kind": kind})
        client.jobs.apply("job.finished", {"job_id": f"job-{kind}", "kind": kind,
                                           "status": "ok", "result": {}})
        qtbot.waitUntil(lambda n=n: len(sent(sig, "tts.models")) == n, timeout=5000)
    qtbot.wait(100)
    assert len(sent(sig, "tts.models")) == len(sent(sig, "models.list")) == 2
    state = ProjectState(path=str(tmp_path / "Voice ü"), project={"name": "Voice ü"})
    page.hide()
    page.controller.state = state
    page.controller.project_changed.emit(state)
    qtbot.wait(50)
    assert len(sent(sig, "tts.models")) == 2  # hidden: asked when shown again
    page.show()  # while the last answer (of no project) is still on its way
    qtbot.waitUntil(lambda: len(sent(sig, "tts.models")) == 3, timeout=5000)
    qtbot.waitUntil(lambda: len(sent(sig, "models.list")) == 3, timeout=5000)
    assert sent(sig, "tts.models")[2] == sent(sig, "models.list")[2] == {"project": state.path}


def test_in_the_window_the_jobs_dock_follows_the_pages_handle(qtbot, make_client, qsettings,
                                                              tmp_path) -> None:
    from desktop.ui.jobs_panel import COL_STATUS
    from desktop.ui.main_window import MainWindow

    msgs = _materialize("speak_run.jsonl", tmp_path)
    client, _sig = make_client(fake_command("speak_run.jsonl", tmp_path))
    window = MainWindow(client, qsettings)
    qtbot.addWidget(window)
    client.start()
    window.show()
    window.show_page("speak")
    page = window.speak_page
    qtbot.waitUntil(lambda: page.form.models_loaded and page.form.voices_loaded, timeout=10000)
    _fill(qtbot, page, _speak_args(msgs)[0])
    states: list[str] = []
    job = page.start()
    assert job is not None
    job.subscribe(lambda j, *_a: states.append(j.state) if states[-1:] != [j.state] else None)
    qtbot.waitUntil(lambda: job.finished, timeout=10000)
    assert states == ["running", "ok"]
    assert window.jobs_panel.handle(job.job_id) is job
    assert window.jobs_panel.cell_text(job, COL_STATUS) == "ok"
    assert [h for h in window.jobs.handles() if h.job_id == job.job_id] == [job]


def test_an_old_backend_without_tts_models_is_said_in_words(qtbot, make_client,
                                                            tmp_path) -> None:
    hello = messages("hello_ping.jsonl", tmp_path)[0]
    session = tmp_path / "old backend.jsonl"  # knows no tts.models: unknown_command
    session.write_text("\n".join(json.dumps(m) for m in (
        hello, {"type": "event", "event": "backend.ready", "data": {"commands": ["ping"]}},
        {"fake": "serve"})) + "\n", encoding="utf-8")
    client, _sig = make_client(fake_command(str(session)))
    page = _page(qtbot, client, tmp_path)
    _ready(qtbot, client, page)
    assert page.message.text().startswith("Could not list the text-to-speech models: ")
    assert "tts.models" in page.message.text() and "b00020" in page.message.styleSheet()
    assert not page.buttons["speak"].isEnabled()
