"""The Extract page and the asset-missing dialog: Qt-free logic, and replayed sessions.

extract_real_*.jsonl are recorded from the real backend by record_extract_sessions.py (a
project prepared by the real CLI, a tiny HuBERT file, a tiny rmvpe.pt imported by the real
assets job); the tests check that the page sends exactly the recorded requests.
extract_preflight.jsonl and extract_failures.jsonl are hand-written from the protocol; they
stay for what a recording cannot give: a download (no network), catalogue encoders and an
rmvpe that counts as installed on the first list, and a job that fails with asset_missing
in its job.finished (the real extract job refuses the start instead).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend.protocol import Error, Hello
from desktop.components.assets import (
    MissingAsset,
    missing_from_error,
    missing_from_job,
    missing_from_list,
)
from desktop.components.extract_settings import (
    METHOD_NAMES,
    OTHER_ENCODER,
    ExtractSettings,
    assets_needed,
    cuda_available,
    progress_text,
    summary_text,
)
from desktop.components.job_handle import JobHandle
from desktop.components.project_state import ProjectState
from desktop.components.settings import AppSettings, JsonSettingsStore
from desktop.ui.extract_page import INTRO, QtExtractPage
from desktop.ui.main_window import MainWindow
from desktop.ui.project_controller import ProjectController
from tests.desktop.conftest import SESSIONS, fake_command
from tests.desktop.record_extract_sessions import ENCODER, PROJECT, RMVPE_SOURCE

pytestmark = pytest.mark.timeout(60)

DETAILS = {"name": "rmvpe", "size": 181184272,
           "download_command": "python -m backend assets download rmvpe",
           "import_hint": "if you already have rmvpe.pt, run 'python -m backend assets import "
                          "PATH --as rmvpe'"}


def _received(sig, cmd: str) -> list[dict]:
    prefix = "fake backend received: "
    reqs = [json.loads(s[len(prefix):]) for s in sig.stderr if s.startswith(prefix)]
    return [r for r in reqs if r["cmd"] == cmd]


# Qt-free ----------------------------------------------------------------------------------
def test_defaults_follow_installed_assets_and_the_project() -> None:
    assert METHOD_NAMES == ["harvest", "dio", "pm", "crepe-tiny", "crepe", "rmvpe"]
    s = ExtractSettings.defaults({"version": "v1"}, {"rmvpe", "hubert-base"})
    assert (s.f0, s.version, s.encoder, s.device, s.filter_radius) == \
        ("rmvpe", "v1", "hubert-base", "auto", 3)
    s = ExtractSettings.defaults({"version": "v9"}, set())
    assert (s.f0, s.version) == ("harvest", "v2")
    assert ExtractSettings.defaults(None, None).f0 == "harvest"


def test_assets_a_method_and_encoder_need() -> None:
    assert assets_needed("rmvpe", "hubert-base") == ["rmvpe", "hubert-base"]
    assert assets_needed("harvest", "contentvec-hf") == ["contentvec-hf", "contentvec-hf-config"]
    assert assets_needed("crepe", "/models/my encoder ü.pt") == []
    assert ExtractSettings(f0="pm", encoder="hubert-base").assets_needed() == ["hubert-base"]


def test_validate_and_job_args() -> None:
    s = ExtractSettings(f0="rmvpe", encoder="/x/enc.pt", version="v1", device="cuda",
                        filter_radius=5)
    assert s.validate(cuda=True) == []
    assert any("CUDA" in p for p in s.validate(cuda=False))
    bad = ExtractSettings(f0="yin", encoder=OTHER_ENCODER, version="v3", device="tpu",
                          filter_radius=16)
    assert len(bad.validate()) == 5
    assert s.to_job_args("/p/My voice") == {"project": "/p/My voice", "f0": "rmvpe",
                                            "encoder": "/x/enc.pt", "version": "v1",
                                            "device": "cuda", "filter_radius": 5}


def test_cuda_from_hello() -> None:
    cpu = {"id": "cpu", "kind": "cpu", "name": "x"}
    assert not cuda_available(Hello(1, "0.1", None, [cpu]))
    assert cuda_available(Hello(1, "0.1", None, [cpu, {"id": "cuda:0", "kind": "cuda"}]))
    assert not cuda_available(None)


def test_summary_and_progress_texts() -> None:
    text = summary_text({"slices": 6, "processed": 3, "skipped": 2, "seconds": 2.5,
                         "errors": [{"slice": "a.wav", "message": "silent"}] * 12,
                         "features_dir": "/p/features"})
    assert text.startswith("Extracted features for 3 of 6 clip(s) (2 already up to date) in "
                           "2.5 s.")
    assert "Features: /p/features" in text and "12 clip(s) failed:" in text
    assert "  a.wav: silent" in text and "…and 2 more" in text
    assert progress_text("pitch (rmvpe)", 1, 4, "1 s") == "pitch (rmvpe) 1 / 4 — 1 s left"
    assert progress_text("loading models", 0, 0) == "loading models"


def test_asset_missing_detection() -> None:
    err = Error("7", "asset_missing", "RMVPE … is not installed", DETAILS)
    m = missing_from_error(err)
    assert m is not None and (m.name, m.size, m.size_text) == ("rmvpe", 181184272, "181 MB")
    assert m.download_command == DETAILS["download_command"] and "181 MB" in m.text()
    assert missing_from_error(Error("7", "bad_arguments", "x", DETAILS)) is None
    assert missing_from_error(Error("7", "asset_missing", "x", {})) is None
    finished = {"job_id": "job-1", "kind": "extract", "status": "failed",
                "error": {"code": "asset_missing", "message": "m", "details": DETAILS}}
    job = JobHandle("extract", {}, job_id="job-1")
    job.apply("job.finished", finished)
    assert missing_from_job(job) == MissingAsset(
        "rmvpe", 181184272, "m", DETAILS["download_command"], DETAILS["import_hint"])
    refused = JobHandle("extract", {}, request_id="d1")
    refused.refuse("asset_missing", "m", DETAILS)
    assert missing_from_job(refused) == missing_from_job(job)
    ok = JobHandle("extract", {}, job_id="job-2")
    ok.apply("job.finished", {**finished, "job_id": "job-2", "status": "ok"})
    assert missing_from_job(ok) is None
    other = JobHandle("extract", {}, job_id="job-3")
    other.apply("job.finished", {"status": "failed", "error": {"code": "internal"}})
    assert missing_from_job(other) is None
    listing = {"assets": [{"name": "rmvpe", "installed": False, "size": 181184272,
                           "title": "RMVPE pitch estimator"},
                          {"name": "hubert-base", "installed": True, "size": 189507909}]}
    missing = missing_from_list(listing, ["hubert-base", "rmvpe", "mystery"])
    assert [(x.name, x.size) for x in missing] == [("rmvpe", 181184272), ("mystery", None)]
    assert "RMVPE pitch estimator (rmvpe)" in missing[0].text()
    assert "not known in advance" in missing[1].text()
    assert missing_from_list(listing, ["hubert-base"]) == []


# Qt: replayed sessions ------------------------------------------------------------------------
def _page(qtbot, client, tmp_path: Path, version: str) -> tuple[QtExtractPage, ProjectState]:
    settings = AppSettings(JsonSettingsStore(tmp_path / "settings.json"))
    controller = ProjectController(client, settings)
    page = QtExtractPage(client, controller)
    qtbot.addWidget(page)
    assert not page.start_btn.isEnabled()  # no project yet
    state = ProjectState(path=str(tmp_path / "My voice ü"),
                         project={"name": "My voice ü", "version": version})
    controller.state = state
    controller.project_changed.emit(state)
    return page, state


def _spy(page: QtExtractPage) -> list[str]:
    said: list[str] = []
    original = page._say
    page._say = lambda text: (said.append(text), original(text))
    return said


def test_preflight_missing_rmvpe_download_then_retry(qtbot, make_client, tmp_path) -> None:
    client, sig = make_client(fake_command("extract_preflight.jsonl", tmp_path))
    page, state = _page(qtbot, client, tmp_path, "v1")
    said = _spy(page)
    client.start()
    page.load_assets()
    qtbot.waitUntil(lambda: page.installed == {"hubert-base"}, timeout=5000)
    form = page.form
    assert form.values() == ExtractSettings(f0="harvest", version="v1")  # rmvpe missing
    assert "My voice ü" in page.project_label.text() and page.start_btn.isEnabled()
    cuda = form.device.model().item(form.device.findData("cuda"))
    assert not cuda.isEnabled()  # the hello lists no CUDA device
    form.pitch.setCurrentIndex(form.pitch.findData("rmvpe"))
    assert "rmvpe model file" in form.pitch_help.text()
    form.filter_radius.setValue(5)

    page.start_btn.click()
    qtbot.waitUntil(lambda: page.missing_dialog is not None, timeout=5000)
    dialog = page.missing_dialog
    assert dialog.isVisible() and "rmvpe" in dialog.text_label.text()
    assert "181 MB" in dialog.text_label.text() and dialog.download_btn.text().endswith("(181 MB)")
    assert _received(sig, "job.start") == []  # nothing started while rmvpe is missing
    assert not dialog.retry_btn.isEnabled() and page.start_btn.isEnabled()

    dialog.download_btn.click()
    qtbot.waitUntil(dialog.retry_btn.isEnabled, timeout=5000)
    assert _received(sig, "job.start")[0]["args"] == {
        "kind": "assets", "args": {"action": "download", "name": "rmvpe"}}
    assert "rmvpe is installed" in dialog.status_label.text()
    dialog.retry_btn.click()
    qtbot.waitUntil(lambda: not page.summary.isHidden(), timeout=5000)
    assert _received(sig, "job.start")[1]["args"] == {"kind": "extract", "args": {
        "project": state.path, "f0": "rmvpe", "encoder": "hubert-base", "version": "v1",
        "device": "auto", "filter_radius": 5}}
    assert page.summary.toPlainText().startswith(
        "Extracted features for 4 of 4 clip(s) (0 already up to date) in 3.2 s.")
    assert f"Features: {state.path}/features" in page.summary.toPlainText()
    assert "extracting 1 / 4 — 1 s left" in said and "extracting 4 / 4" in said
    assert page.message.text() == "Extraction finished."
    assert page.progress.isHidden() and page.start_btn.isEnabled()
    assert not page.cancel_btn.isEnabled()


def test_failed_job_import_refused_start_path_encoder_cancel(qtbot, make_client,
                                                             tmp_path) -> None:
    client, sig = make_client(fake_command("extract_failures.jsonl", tmp_path))
    page, state = _page(qtbot, client, tmp_path, "v2")
    client.start()
    page.load_assets()
    qtbot.waitUntil(lambda: page.installed == {"hubert-base", "rmvpe"}, timeout=5000)
    assert page.form.values().f0 == "rmvpe"

    page.start_btn.click()  # the job fails: rmvpe is missing after all
    qtbot.waitUntil(lambda: page.missing_dialog is not None, timeout=5000)
    dialog = page.missing_dialog
    assert "rmvpe" in dialog.text_label.text() and not page.busy
    picked = str(tmp_path / "downloads ü" / "rmvpe.pt")
    dialog.pick_file = lambda: picked
    dialog.import_btn.click()
    qtbot.waitUntil(dialog.retry_btn.isEnabled, timeout=5000)
    assert _received(sig, "job.start")[1]["args"] == {
        "kind": "assets", "args": {"action": "import", "path": picked, "name": "rmvpe"}}

    dialog.retry_btn.click()  # now the start is refused: hubert-base is missing
    qtbot.waitUntil(lambda: page.missing_dialog is not dialog, timeout=5000)
    second = page.missing_dialog
    assert "hubert-base" in second.text_label.text() and "190 MB" in second.text_label.text()
    assert page.message.text() == "Extraction needs hubert-base, which is not installed."
    # the message goes once the settings no longer need hubert-base (and does not return)
    page.form.encoder.setCurrentIndex(page.form.encoder.findData("contentvec-hf"))
    assert page.message.text() == INTRO
    page.form.encoder.setCurrentIndex(page.form.encoder.findData("hubert-base"))
    assert page.message.text() == INTRO
    # the dialog's "Use another file…" is the encoder combo's "Other file…" route
    encoder = str(tmp_path / "encoders ü" / "my hubert.pt")
    assert not second.other_btn.isHidden() and second.other_btn.text() == "Use another file…"
    second.pick_other_file = lambda: encoder
    second.other_btn.click()  # a file path needs no catalogue asset: the retry starts
    assert not second.isVisible() and second.used_file == encoder
    assert page.form.values().encoder == encoder
    assert page.form.encoder.currentText() == "my hubert.pt"
    qtbot.waitUntil(lambda: not page.summary.isHidden(), timeout=5000)
    assert _received(sig, "job.start")[3]["args"]["args"]["encoder"] == encoder
    text = page.summary.toPlainText()
    assert "3 of 6 clip(s) (2 already up to date)" in text
    assert "1 clip(s) failed:\n  take 1_0003: audio is silent" in text

    page.form.pitch.setCurrentIndex(page.form.pitch.findData("harvest"))
    page.start_btn.click()
    qtbot.waitUntil(page.cancel_btn.isEnabled, timeout=5000)
    qtbot.waitUntil(lambda: page.message.text().startswith("extracting 1 / 6"), timeout=5000)
    assert not page.form.isEnabled() and not page.start_btn.isEnabled()
    page.cancel_btn.click()
    qtbot.waitUntil(lambda: page.message.text() == "Extraction cancelled.", timeout=5000)
    assert _received(sig, "job.cancel")[0]["args"] == {"job_id": "job-4"}
    assert page.start_btn.isEnabled() and page.form.isEnabled()


def test_main_window_extract_page_follows_the_project(qtbot, make_client, qsettings,
                                                      tmp_path) -> None:
    client, _sig = make_client(fake_command("hello_ping.jsonl"))
    window = MainWindow(client, qsettings)
    qtbot.addWidget(window)
    page = window.page("extract")
    assert isinstance(page, QtExtractPage) and page is window.extract_page
    state = ProjectState(path=str(tmp_path / "Ω voice"), project={"version": "v1"})
    window.controller.state = state
    window.controller.project_changed.emit(state)
    assert str(tmp_path / "Ω voice") in page.project_label.text()
    assert page.form.values().version == "v1" and page.start_btn.isEnabled()


def test_older_pitch_rules_are_named_when_the_project_opens(qtbot, make_client,
                                                             tmp_path) -> None:
    client, _sig = make_client(fake_command("hello_ping.jsonl"))
    page, _ = _page(qtbot, client, tmp_path, "v2")
    assert page.message.text() == INTRO
    note = "These features were extracted with the earlier pitch rules; run Extract again."
    old = ProjectState(path=str(tmp_path / "old ü"), project={"version": "v2"},
                       summary={"pitch_note": note})
    page.controller.state = old
    page.controller.project_changed.emit(old)
    assert page.message.text() == note
    new = ProjectState(path=str(tmp_path / "new"), project={"version": "v2"},
                       summary={"pitch_note": None})
    page.controller.state = new
    page.controller.project_changed.emit(new)
    assert page.message.text() == INTRO


# Qt: sessions recorded from the real backend ----------------------------------------------
REQUESTS = ("assets.list", "job.start", "job.cancel", "project.extract_settings")


def _recorded(session: str, folder: Path) -> tuple[list[tuple[str, dict]], list[dict]]:
    """The requests the recording sent ((cmd, args) of its awaits) and its job.finished data."""
    escaped = json.dumps(str(folder), ensure_ascii=False)[1:-1]
    lines = (SESSIONS / session).read_text("utf-8").replace("$PROJECT", escaped).splitlines()
    msgs = [json.loads(line) for line in lines if line.strip()]
    sent = [(m["cmd"], m["args"]) for m in msgs if m.get("fake") == "await"]
    finished = [m["data"] for m in msgs if m.get("event") == "job.finished"]
    return sent, finished


def _sent(sig) -> list[tuple[str, dict]]:
    """What the page sent the fake backend (the commands a recording awaits)."""
    prefix = "fake backend received: "
    reqs = [json.loads(s[len(prefix):]) for s in sig.stderr if s.startswith(prefix)]
    return [(r["cmd"], r["args"]) for r in reqs if r["cmd"] in REQUESTS]


def _check_sent_as_recorded(qtbot, sig, recorded: list[tuple[str, dict]]) -> None:
    recorded = [r for r in recorded if r[0] in REQUESTS]  # what the page sends itself
    qtbot.waitUntil(lambda: len(_sent(sig)) >= len(recorded), timeout=5000)
    assert _sent(sig) == recorded
    assert not any(s.startswith("fake backend: ignoring") for s in sig.stderr)


def _choose(page: QtExtractPage, f0: str, encoder: Path) -> None:
    """Pick the pitch method and an encoder file as a user does."""
    form = page.form
    form.pitch.setCurrentIndex(form.pitch.findData(f0))
    form.pitch.activated.emit(form.pitch.currentIndex())
    form.pick_encoder_file = lambda: str(encoder)
    form.encoder.activated.emit(form.encoder.findData(OTHER_ENCODER))
    assert form.values() == ExtractSettings(f0=f0, encoder=str(encoder), version="v2")


def test_real_extraction_with_pm_and_an_encoder_file(qtbot, make_client, tmp_path) -> None:
    recorded, finished = _recorded("extract_real_ok.jsonl", tmp_path)
    client, sig = make_client(fake_command("extract_real_ok.jsonl", tmp_path))
    page, state = _page(qtbot, client, tmp_path, "v2")
    assert state.path == str(tmp_path / PROJECT)
    said = _spy(page)
    listed: list[dict] = []
    on_listed = page._on_assets_listed
    page._on_assets_listed = lambda r: (listed.append(r), on_listed(r))
    client.start()
    page.load_assets()  # as when the page is shown
    qtbot.waitUntil(lambda: len(listed) == 1, timeout=5000)
    assert page.installed == set() and len(listed[0]["assets"]) >= 4  # an empty data dir
    assert page.form.values().f0 == "harvest"
    _choose(page, "pm", tmp_path / ENCODER)

    page.start_btn.click()
    qtbot.waitUntil(lambda: not page.summary.isHidden(), timeout=5000)
    _check_sent_as_recorded(qtbot, sig, recorded)
    started = [args for cmd, args in recorded if cmd == "job.start"]
    assert started[-1]["args"]["encoder"] == str(tmp_path / ENCODER)
    assert page.missing_dialog is None
    progress = [s for s in said if s.startswith("extracting ")]
    assert progress[0] == "extracting 0 / 4" and progress[-1] == "extracting 4 / 4"
    assert any(s.startswith("extracting 1 / 4 — ") and s.endswith(" left") for s in progress)
    result = finished[-1]["result"]
    assert (result["processed"], result["slices"], result["errors"]) == (4, 4, [])
    text = page.summary.toPlainText()
    assert text == summary_text(result)
    assert text.startswith(f"Extracted features for 4 of 4 clip(s) (0 already up to date) in "
                           f"{result['seconds']:.1f} s.")
    assert f"Features: {state.path}/features" in text
    assert page.message.text() == "Extraction finished."
    assert page.progress.isHidden() and page.start_btn.isEnabled()
    assert not page.cancel_btn.isEnabled() and page.form.isEnabled()
    # the settings were saved with the project: they are there when the app opens it again
    assert recorded[1] == ("project.extract_settings", {"path": state.path, "settings": {
        "f0": "pm", "encoder": str(tmp_path / ENCODER), "version": "v2", "device": "auto",
        "filter_radius": 3}})
    reopened = ProjectState.from_open_result(_recorded_result("extract_real_ok.jsonl",
                                                              tmp_path, "project.open"))
    again, _state = _page(qtbot, client, tmp_path / "again", "v2")
    again.controller.state = reopened
    again.controller.project_changed.emit(reopened)
    assert again.form.values() == ExtractSettings(f0="pm", encoder=str(tmp_path / ENCODER))
    assert again.form.encoder.currentText() == "hubert tiny.pt"
    again._on_assets_listed({"assets": [{"name": "rmvpe", "installed": True}]})
    assert again.form.values().f0 == "pm"  # the project's choice, not the default


def _recorded_result(session: str, folder: Path, cmd: str) -> dict:
    """The recorded answer to the (last) ``cmd`` request of a session."""
    escaped = json.dumps(str(folder), ensure_ascii=False)[1:-1]
    lines = (SESSIONS / session).read_text("utf-8").replace("$PROJECT", escaped).splitlines()
    msgs = [json.loads(line) for line in lines if line.strip()]
    rid = [m["as"] for m in msgs if m.get("fake") == "await" and m["cmd"] == cmd][-1]
    return next(m["result"] for m in msgs if m.get("type") == "result" and m["id"] == rid)


def _import_in(qtbot, dialog, source: Path) -> None:
    assert dialog.isVisible() and not dialog.retry_btn.isEnabled()
    dialog.pick_file = lambda: str(source)
    dialog.import_btn.click()
    qtbot.waitUntil(dialog.retry_btn.isEnabled, timeout=5000)
    assert dialog.status_label.text().startswith("rmvpe is installed.")


def test_real_rmvpe_missing_refused_import_and_retry(qtbot, make_client, tmp_path) -> None:
    recorded, finished = _recorded("extract_real_missing.jsonl", tmp_path)
    client, sig = make_client(fake_command("extract_real_missing.jsonl", tmp_path))
    page, _state = _page(qtbot, client, tmp_path, "v2")
    client.start()
    _choose(page, "rmvpe", tmp_path / ENCODER)

    page.start_btn.click()  # preflight: the empty data dir has no rmvpe; nothing is started
    qtbot.waitUntil(lambda: page.missing_dialog is not None, timeout=5000)
    first = page.missing_dialog
    assert "RMVPE pitch estimator (rmvpe)" in first.text_label.text()
    assert "181 MB" in first.text_label.text()
    assert first.download_btn.text() == "Download (181 MB)"
    assert first.other_btn.isHidden()  # rmvpe has no "use another file" route
    assert [cmd for cmd, _ in _sent(sig)] == ["project.extract_settings", "assets.list"]
    _import_in(qtbot, first, tmp_path / RMVPE_SOURCE)

    first.retry_btn.click()  # listed as installed, then removed: the start is refused
    qtbot.waitUntil(lambda: page.missing_dialog is not first, timeout=5000)
    second = page.missing_dialog
    assert second.isVisible()  # the first one was closed and deleted
    assert "model file rmvpe is needed" in second.text_label.text()
    assert "181 MB" in second.text_label.text() and second.download_btn.text() == \
        "Download (181 MB)"
    assert "python -m backend assets download rmvpe" in second.text_label.text()
    assert not page.busy and page.message.text().startswith("Extraction needs rmvpe")
    _import_in(qtbot, second, tmp_path / RMVPE_SOURCE)

    second.retry_btn.click()
    qtbot.waitUntil(lambda: not page.summary.isHidden(), timeout=5000)
    _check_sent_as_recorded(qtbot, sig, recorded)
    assert [args.get("kind") for cmd, args in recorded if cmd == "job.start"] == \
        ["assets", "extract", "assets", "extract"]
    assert [f["kind"] for f in finished] == ["assets", "assets", "extract"]
    assert page.summary.toPlainText() == summary_text(finished[-1]["result"])
    assert "4 of 4 clip(s)" in page.summary.toPlainText()
    assert page.message.text() == "Extraction finished." and page.start_btn.isEnabled()


def test_real_cancel_mid_run(qtbot, make_client, tmp_path) -> None:
    recorded, finished = _recorded("extract_real_cancel.jsonl", tmp_path)
    client, sig = make_client(fake_command("extract_real_cancel.jsonl", tmp_path))
    page, _state = _page(qtbot, client, tmp_path, "v2")
    client.start()
    _choose(page, "harvest", tmp_path / ENCODER)

    page.start_btn.click()
    qtbot.waitUntil(page.cancel_btn.isEnabled, timeout=5000)
    qtbot.waitUntil(lambda: page.message.text().startswith("extracting 1 / 4"), timeout=5000)
    assert not page.progress.isHidden() and page.progress.value() == 250
    assert not page.form.isEnabled() and not page.start_btn.isEnabled()
    page.cancel_btn.click()
    qtbot.waitUntil(lambda: page.message.text() == "Extraction cancelled.", timeout=5000)
    _check_sent_as_recorded(qtbot, sig, recorded)
    assert recorded[-1] == ("job.cancel", {"job_id": "job-1"})
    assert finished[-1]["status"] == "cancelled"
    assert not page.busy and page.summary.isHidden() and page.progress.isHidden()
    assert page.start_btn.isEnabled() and page.form.isEnabled()
    assert not page.cancel_btn.isEnabled()


def test_missing_asset_dialog_shows_long_errors_whole(qtbot, make_client) -> None:
    """A refusal is often long (paths, checksums): it wraps, and the dialog grows to show
    all of it instead of clipping it."""
    from desktop.components.assets import MissingAsset
    from desktop.ui.asset_missing_dialog import QtAssetMissingDialog

    client, _sig = make_client(fake_command("hello_ping.jsonl"))
    dialog = QtAssetMissingDialog(client, MissingAsset("hubert-base", 189_507_909))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    before = dialog.size()
    message = ("/home/me/Downloads/some very long folder name/take 1.wav is not the HuBERT "
               "base (hubert-base): expected a torch weights file, found an audio file. Its "
               "sha256 2e4783e37d8e349c64de1119ccfd16da4ad57c8e8f33b947f3b55df8b0a37075 is not "
               "the published f54b40fd2802423a5643779c4861af1e9ee9c1564dc9d32f54f20b5ffba7db96.")
    job = dialog.import_path("/home/me/Downloads/some very long folder name/take 1.wav")
    assert job is dialog.job and job.active
    job.refuse("wrong_file", message)  # the job.start's error reply, as the client hands it on
    qtbot.wait(50)
    label = dialog.status_label
    assert label.text() == "Wrong file: " + message and label.wordWrap()
    assert label.height() >= label.heightForWidth(label.width())  # every line shown
    assert label.geometry().bottom() <= dialog.contentsRect().bottom()
    assert dialog.width() == before.width() and dialog.height() > before.height()
