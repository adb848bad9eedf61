"""The Train page on hand-written train sessions replayed by fake_backend.py (a real process).

train_session.jsonl: the project opens, its run "main" has 40 steps of history in
metrics.jsonl (written here), training resumes at step 41, pauses after step 140,
continues, and is stopped after step 240.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from desktop.components.settings import AppSettings, JsonSettingsStore
from desktop.ui.main_window import MainWindow
from desktop.ui.project_controller import ProjectController
from desktop.ui.train_page import QtTrainPage
from tests.desktop.conftest import fake_command

PROJECT = "Voice ü"


def _received(sig, cmd: str) -> list[dict]:
    prefix = "fake backend received: "
    reqs = [json.loads(s[len(prefix):]) for s in sig.stderr if s.startswith(prefix)]
    return [r for r in reqs if r["cmd"] == cmd]


def _write_history(project: Path, steps: int) -> Path:
    path = project / "runs" / "main" / "metrics.jsonl"
    path.parent.mkdir(parents=True)
    lines = [json.dumps({"step": s, "epoch": (s - 1) // 7 + 1, "samples": s * 6,
                         "steps_per_epoch": 7, "step_time": 0.5, "samples_per_s": 12.0,
                         "loss_g": 60.0 - s / 10, "loss_d": 4.0, "loss_mel": 40.0 - s / 20,
                         "lr": 1e-4, "grad_norm_g": 50.0}) for s in range(1, steps + 1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _page(qtbot, make_client, tmp_path: Path, session: str):
    project = tmp_path / PROJECT
    client, sig = make_client(fake_command(session, tmp_path))
    settings = AppSettings(JsonSettingsStore(tmp_path / "settings.json"))
    controller = ProjectController(client, settings)
    page = QtTrainPage(client, controller, settings)
    qtbot.addWidget(page)
    client.start()
    controller.open(str(project))
    return page, client, sig, project


@pytest.fixture
def live(qtbot, make_client, tmp_path):
    project = tmp_path / PROJECT
    _write_history(project, 40)
    (project / "assets").mkdir()
    for name in ("f0G40k.pth", "f0D40k.pth"):
        (project / "assets" / name).write_bytes(b"tiny")
    page, client, sig, project = _page(qtbot, make_client, tmp_path, "train_session.jsonl")
    qtbot.waitUntil(lambda: page.history.last_step == 40 and page.start_btn.isEnabled(),
                    timeout=5000)
    return page, sig, project


def test_history_loads_on_project_open_and_form_is_prefilled(qtbot, live) -> None:
    page, sig, project = live
    assert _received(sig, "train.runs")[0]["args"] == {"project": str(project)}
    qtbot.waitUntil(lambda: page.plot.curve("loss_g") is not None, timeout=2000)  # the timer
    curve = page.plot.curve("loss_g")
    assert list(curve.xData) == list(range(1, 41))
    assert curve.yData[0] == pytest.approx(59.9) and curve.yData[-1] == pytest.approx(56.0)
    assert page.plot.curve("lr").isVisible() and not page.plot.curve("step_time").isVisible()
    assert page.plot.curve("loss_mel").isVisible()
    assert not page.plot.curve("loss_g").isVisible()  # the total would flatten the terms
    s = page.form.values()
    assert (s.epochs, s.batch_size, s.save_every, s.learning_rate) == (300, 6, 25, "0.0001")
    assert s.pretrained_g == str(project / "assets" / "f0G40k.pth")
    assert s.pretrained_d == str(project / "assets" / "f0D40k.pth")
    assert "fine-tune" in page.suggestion_label.text()
    assert page.checkpoints_table.rowCount() == 1 and page.samples_table.rowCount() == 1
    # the hello had no CUDA device: that choice is disabled
    index = page.form.device.findData("cuda")
    assert not page.form.device.model().item(index).isEnabled()
    assert "step 20" in page.plot.readout_at(20.2) and "mel 39" in page.plot.readout_at(20)


def test_training_live_pause_stop_samples_and_checkpoints(qtbot, live) -> None:
    page, sig, project = live
    plot = page.plot
    repaints_before = plot.repaint_count
    assert page.output.model_btn.isEnabled()  # the run has a checkpoint
    page.form.tensorboard.setChecked(True)
    assert page.start_training() is not None
    args = _received_wait(qtbot, sig, "job.start")[0]["args"]
    assert args["kind"] == "train" and args["args"] == {
        "project": str(project), "run": "main", "size": "standard", "epochs": 300,
        "batch_size": 6, "learning_rate": 0.0001, "save_every": 25, "keep_last": 3,
        "pretrained_g": str(project / "assets" / "f0G40k.pth"),
        "pretrained_d": str(project / "assets" / "f0D40k.pth"),
        "device": "auto", "precision": "auto", "tensorboard": True, "model": "rvc"}
    qtbot.waitUntil(lambda: page.samples_table.rowCount() == 2, timeout=5000)
    assert page.history.last_step == 140 and page.session.job_id == "job-1"
    assert page.checkpoints_table.rowCount() == 2
    assert page.samples_table.item(1, 0).text() == "140"
    assert "step 140 / 2100" in page.status_label.text()
    assert "samples/s" in page.status_label.text() and "left" in page.status_label.text()
    assert not page.start_btn.isEnabled() and not page.form.isEnabled()
    for button in (page.output.index_btn, page.output.model_btn, page.output.package_btn):
        assert not button.isEnabled() and "Training is running" in button.toolTip()
    assert "emb_g.weight" in page.warnings_label.text()  # logged before the job.start reply

    page.samples_table.cellWidget(1, 2).click()  # Play
    page.audio_stop_btn.click()
    page.pause_btn.click()
    qtbot.waitUntil(lambda: page.session.paused, timeout=5000)
    assert page.pause_btn.text() == "Continue" and "Paused" in page.status_label.text()
    play = _received(sig, "audio.play")
    assert play[0]["args"] == {"path": str(project / "runs" / "main" / "samples"
                                           / "step_00000140.wav"), "start": 0, "end": None}
    assert _received(sig, "audio.stop")[0]["args"] == {}
    assert _received(sig, "job.pause")[0]["args"] == {"job_id": "job-1"}

    page.pause_btn.click()
    qtbot.waitUntil(lambda: page.history.last_step == 240, timeout=5000)
    assert _received(sig, "job.resume")[0]["args"] == {"job_id": "job-1"}
    assert page.pause_btn.text() == "Pause"
    page.stop_btn.click()
    assert not page.stop_btn.isEnabled() and "Stopping" in page.status_label.text()
    qtbot.waitUntil(lambda: not page.session.running, timeout=5000)
    assert _received(sig, "job.cancel")[0]["args"] == {"job_id": "job-1"}
    assert "stopped at step 240, epoch 35" in page.status_label.text()
    assert page.checkpoints_table.rowCount() == 3 and page.start_btn.isEnabled()
    assert page.output.model_btn.isEnabled() and page.output.package_btn.isEnabled()

    curve = plot.curve("loss_mel")
    assert list(curve.xData) == list(range(1, 241))  # file history + live events
    assert curve.yData[39] == pytest.approx(38.0)  # step 40 from the file
    record = next(json.loads(line)["data"] for line in _session_lines()
                  if '"job.metrics"' in line and '"step": 200,' in line)
    assert curve.yData[199] == pytest.approx(record["loss_mel"])
    assert plot.curve("grad_norm_d") is not None and plot.curve("loss_kl") is not None
    messages = 200 + 20  # job.metrics + job.progress events
    repaints = plot.repaint_count - repaints_before
    print(f"\n{messages} messages -> {repaints} repaints")
    assert 1 <= repaints < messages / 10
    # after the stop the page asked for the runs again (their checkpoints are listed)
    qtbot.waitUntil(lambda: len(_received(sig, "train.runs")) == 2, timeout=5000)


def _session_lines() -> list[str]:
    path = Path(__file__).parent / "sessions" / "train_session.jsonl"
    return path.read_text(encoding="utf-8").splitlines()


def _received_wait(qtbot, sig, cmd: str) -> list[dict]:
    qtbot.waitUntil(lambda: bool(_received(sig, cmd)), timeout=5000)
    return _received(sig, cmd)


def test_toggles_log_scale_smoothing_and_the_timer(qtbot, live) -> None:
    page, _sig, _project = live
    plot = page.plot
    qtbot.waitUntil(lambda: plot.curve("loss_g") is not None, timeout=2000)
    raw = np.array(plot.curve("loss_g").yData)
    assert not plot.checkbox("loss_g").isChecked() and "loss_g" not in plot.shown_terms()
    assert "total" not in plot.readout_at(10)
    plot.checkbox("loss_g").click()
    assert plot.curve("loss_g").isVisible() and "total 59" in plot.readout_at(10)
    plot.checkbox("loss_mel").setChecked(False)
    assert not plot.curve("loss_mel").isVisible() and "mel" not in plot.readout_at(10)
    plot.checkbox("step_time").setChecked(True)
    assert plot.curve("step_time").isVisible()

    plot.log_check.click()
    assert plot.loss.item.getAxis("left").logMode and plot.log_scale
    plot.log_check.click()
    assert not plot.loss.item.getAxis("left").logMode

    count = plot.repaint_count
    plot.set_smoothing(0.9)
    assert plot.repaint_count == count  # not drawn at once: on the timer's next tick
    qtbot.waitUntil(lambda: plot.repaint_count > count, timeout=2000)
    smooth = np.array(plot.curve("loss_g").yData)
    assert smooth[0] == pytest.approx(raw[0]) and smooth[-1] > raw[-1] + 0.5  # EMA lags
    _steps, expected = page.history.series("loss_g", 0.9)
    assert smooth == pytest.approx(expected)
    count = plot.repaint_count
    qtbot.wait(350)  # nothing changed: the timer ticks without repainting
    assert plot.repaint_count == count


def test_hover_reads_out_values_under_the_mouse(qtbot, live) -> None:
    page, _sig, _project = live
    page.resize(1200, 800)
    page.show()
    qtbot.waitExposed(page)
    plot = page.plot
    qtbot.waitUntil(lambda: plot.curve("loss_g") is not None, timeout=2000)
    plot.reset_zoom()
    qtbot.wait(50)
    vb = plot.loss.item.getViewBox()
    pos = vb.mapViewToScene(QPointF(30.2, 30.0))  # inside the mel curve's range
    plot.loss.widget.scene().sigMouseMoved.emit(pos)
    assert plot.readout.text().startswith("step 30:")
    assert "mel 38.5" in plot.readout.text() and "learning rate 0.0001" in plot.readout.text()
    assert plot.loss.cursor.isVisible() and plot.aux.cursor.value() == pytest.approx(30.2)


def test_not_ready_shows_problems_and_invalid_input_is_refused(qtbot, make_client,
                                                                 tmp_path) -> None:
    page, client, sig, _project = _page(qtbot, make_client, tmp_path, "train_not_ready.jsonl")
    qtbot.waitUntil(lambda: page.suggestion is not None, timeout=5000)
    assert not page.start_btn.isEnabled()
    assert "no features: run Extract first" in page.problems_label.text()
    assert "48 kHz" in page.problems_label.text()
    assert page.start_btn.toolTip().startswith("Not ready to train: no features")
    assert page.start_training() is None and _received(sig, "job.start") == []
    assert page.form.pretrained_g.text() == ""  # no base installed: nothing prefilled
    page.suggestion.ready = True  # as if the problems were fixed: the form decides
    page.form.learning_rate.setText("1e-4x")
    error = page.form.errors["learning_rate"]
    assert error.isVisibleTo(page) and "not a number" in error.text()
    assert not page.start_btn.isEnabled() and "learning rate" in page.start_btn.toolTip()
    page.form.learning_rate.setText("2e-4")
    assert not error.isVisibleTo(page) and page.start_btn.isEnabled()
    page.form.pretrained_g.setText(str(tmp_path / "missing G.pth"))
    assert "no file at" in page.form.errors["pretrained_g"].text()
    assert not page.start_btn.isEnabled()


def test_main_window_hosts_the_train_page(qtbot, make_client, qsettings) -> None:
    client, _sig = make_client(fake_command("hello_ping.jsonl"))
    window = MainWindow(client, qsettings)
    qtbot.addWidget(window)
    page = window.page("train")
    assert isinstance(page, QtTrainPage)
    titles = [window.sidebar.item(i).text() for i in range(window.sidebar.count())]
    assert titles.index("Train") == window.stack.indexOf(page)
    assert page.controller is window.controller
    assert not page.start_btn.isEnabled() and "Open a project" in page.start_btn.toolTip()


# --- a real backend session (tests/desktop/record_train_sessions.py) ----------------------
def _real_lines() -> list[dict]:
    path = Path(__file__).parent / "sessions" / "train_real.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_real_training_session_fills_the_page(qtbot, make_client, tmp_path) -> None:
    """Recorded from the real backend: tiny size, 2 epochs, pause and resume after step 1."""
    from desktop.components.train_settings import TrainSettings
    from tests.desktop.record_train_sessions import PROJECT_NAME, job_args

    assert PROJECT_NAME == PROJECT
    lines = _real_lines()
    recorded = [m["data"] for m in lines if m.get("event") == "job.metrics"]
    page, _client, sig, project = _page(qtbot, make_client, tmp_path, "train_real.jsonl")
    qtbot.waitUntil(lambda: page.start_btn.isEnabled(), timeout=5000)
    assert page.suggestion is not None and page.suggestion.ready
    assert page.runs == [] and page.history.last_step == 0
    page.form.set_values(TrainSettings(epochs=2, batch_size=2, learning_rate="1e-4",
                                       save_every=1, keep_last=3, size="tiny", device="cpu"))
    asked: list[str] = []  # the recommended bases are not installed: Start asks first
    page.bases.ask_scratch = lambda text: asked.append(text) or "scratch"
    assert page.start_training() is not None
    assert len(asked) == 1 and "f0G40k.pth and f0D40k.pth are not installed" in asked[0]
    sent = _received_wait(qtbot, sig, "job.start")[0]["args"]
    assert sent == {"kind": "train", "args": job_args(project)}  # what was recorded

    qtbot.waitUntil(lambda: page.history.last_step == 1, timeout=5000)
    page.pause_btn.click()
    qtbot.waitUntil(lambda: page.session.paused, timeout=5000)
    assert "Paused" in page.status_label.text() and "step 1 / 4" in page.status_label.text()
    assert page.pause_btn.text() == "Continue"
    page.pause_btn.click()
    qtbot.waitUntil(lambda: not page.session.running, timeout=5000)
    assert _received(sig, "job.resume")[0]["args"] == {"job_id": "job-1"}
    assert page.status_label.text() == "Training finished at step 4, epoch 2."
    assert [(s.step, s.epoch) for s in page.session.samples] == [(2, 1), (4, 2)]
    assert [(c.step, c.epoch) for c in page.session.checkpoints] == [(2, 1), (4, 2)]
    assert page.samples_table.rowCount() == 2 and page.checkpoints_table.rowCount() == 2
    assert page.samples_table.item(1, 3).text() == "step_000000004.wav"
    assert page.session.samples[1].path == str(
        project / "train" / "main" / "samples" / "step_000000004.wav")
    assert page.start_btn.isEnabled() and page.form.isEnabled()
    curve = page.plot.curve("loss_mel")
    assert curve is not None and list(curve.xData) == [1, 2, 3, 4]
    assert list(curve.yData) == pytest.approx([r["loss_mel"] for r in recorded])

    # the refresh after the finish: the run's files are listed, the curves read back
    qtbot.waitUntil(lambda: len(_received(sig, "train.runs")) == 2 and bool(page.runs),
                    timeout=5000)
    assert [r.name for r in page.runs] == ["main"] and page.runs[0].state == "finished"
    qtbot.waitUntil(lambda: page.history.last_step == 4, timeout=5000)
    steps, values = page.history.series("loss_g")
    assert list(steps) == [1, 2, 3, 4]
    assert list(values) == pytest.approx([r["loss_g"] for r in recorded])
    assert [(c.step, c.epoch) for c in page.session.checkpoints] == [(2, 1), (4, 2)]
    assert page.checkpoints_table.item(0, 1).text() == "1"


def test_reopened_app_shows_the_runs_own_settings_and_start_resumes_it(qtbot, make_client,
                                                                       tmp_path) -> None:
    """train_resume_real.jsonl (real backend): the app opened again after a run with settings
    other than the suggestion's was stopped at its first checkpoint."""
    from tests.desktop.record_train_sessions import resume_args

    page, _client, sig, project = _page(qtbot, make_client, tmp_path, "train_resume_real.jsonl")
    qtbot.waitUntil(lambda: page.start_btn.isEnabled() and page.shown_run is not None
                    and page.suggestion is not None, timeout=5000)
    assert page.suggestion.settings.epochs == 300  # what a new run would get
    assert page.form.values().to_job_args(str(project)) == resume_args(project)
    assert page.history.last_step == 2 and "Start resumes it" in page.status_label.text()
    assert page.bases.isHidden()  # a resumed run uses no pretrained bases
    page.start_btn.click()
    sent = _received_wait(qtbot, sig, "job.start")[0]["args"]
    assert sent == {"kind": "train", "args": resume_args(project)}
    qtbot.waitUntil(lambda: page.session.status != "", timeout=5000)
    assert page.status_label.text() == "Training finished at step 4, epoch 2."
    assert page.session.result["resumed_from"].endswith("ckpt_000000002.pt")
    qtbot.waitUntil(lambda: len(_received(sig, "train.runs")) == 2, timeout=5000)
    assert page.form.values().to_job_args(str(project)) == resume_args(project)


def test_missing_recommended_bases_are_offered_never_silently_skipped(qtbot, make_client,
                                                                      tmp_path) -> None:
    """train_bases_real.jsonl (real backend, empty data folder): the G base is imported
    through the asset dialog the page opens, then the page offers the D base."""
    from tests.desktop.record_train_sessions import BASE_G

    page, _client, sig, project = _page(qtbot, make_client, tmp_path, "train_bases_real.jsonl")
    qtbot.waitUntil(lambda: page.suggestion is not None and page.start_btn.isEnabled(),
                    timeout=5000)
    bases = page.bases
    assert not bases.isHidden() and page.form.pretrained_g.text() == ""
    assert "fine-tune the pretrained bases, but f0G40k.pth and f0D40k.pth are not " \
           "installed" in bases.label.text()
    bases.get_btn.click()
    qtbot.waitUntil(lambda: bases.dialog is not None, timeout=5000)
    dialog = bases.dialog
    assert dialog.missing.name == "rvc-v2-f0G40k" and "73.1 MB" in dialog.download_btn.text()
    assert "Also missing: rvc-v2-f0D40k (143 MB)" in dialog.text_label.text()
    assert not dialog.other_btn.isHidden()  # "Use another file…" for the G field
    dialog.pick_file = lambda: str(tmp_path / BASE_G)
    dialog.import_btn.click()
    qtbot.waitUntil(lambda: dialog.retry_btn.isEnabled(), timeout=5000)
    assert _received(sig, "job.start")[0]["args"] == {"kind": "assets", "args": {
        "action": "import", "path": str(tmp_path / BASE_G), "name": "rvc-v2-f0G40k"}}
    dialog.retry_btn.click()  # "Use it": the page asks train.suggest again and fills G
    installed = tmp_path / "user data ü" / "assets" / "pretrained_v2" / "f0G40k.pth"
    qtbot.waitUntil(lambda: page.form.pretrained_g.text() == str(installed), timeout=5000)
    qtbot.waitUntil(lambda: bases.dialog is not dialog and bases.dialog is not None,
                    timeout=5000)  # then it offers the D base
    assert bases.dialog.missing.name == "rvc-v2-f0D40k"
    bases.dialog.cancel_btn.click()
    assert bases.label.text().startswith("The recommendation is to fine-tune the pretrained "
                                         "bases, but f0D40k.pth is not installed.")
    asked: list[str] = []
    bases.ask_scratch = lambda text: asked.append(text) or "cancel"
    assert page.start_training() is None  # not silently from scratch: it asked
    assert "f0D40k.pth is not installed" in asked[0]
    assert "Not started" in page.status_label.text()
    assert [r["args"]["kind"] for r in _received(sig, "job.start")] == ["assets"]


def test_installed_bases_fill_empty_fields_once(qtbot, make_client, tmp_path) -> None:
    from desktop.components.train_settings import TrainSuggestion
    from desktop.ui.train_bases import QtTrainBases
    from desktop.ui.train_form import QtTrainSettingsForm

    client, _sig = make_client(fake_command("hello_ping.jsonl"))
    form = QtTrainSettingsForm()
    bases = QtTrainBases(client, form)
    qtbot.addWidget(form)
    qtbot.addWidget(bases)
    g = tmp_path / "f0G40k.pth"
    g.write_bytes(b"x")

    def suggestion(installed_g: str | None) -> TrainSuggestion:
        return TrainSuggestion.from_result({
            "ready": True, "suggestion": {"base_g": "f0G40k.pth", "base_d": "f0D40k.pth",
                                          "mode": "fine-tune"},
            "bases": {"g": installed_g, "d": None},
            "base_assets": {"g": "rvc-v2-f0G40k", "d": "rvc-v2-f0D40k"}})

    bases.set_suggestion(suggestion(None), resuming=False)
    assert not bases.isHidden() and bases.unfilled() == {"g": "rvc-v2-f0G40k",
                                                         "d": "rvc-v2-f0D40k"}
    bases.set_suggestion(suggestion(str(g)), resuming=False)  # G was installed meanwhile
    assert form.pretrained_g.text() == str(g) and bases.unfilled() == {"d": "rvc-v2-f0D40k"}
    form.pretrained_g.clear()  # the user's choice: no G base
    bases.set_suggestion(suggestion(str(g)), resuming=False)  # e.g. the page shown again
    assert form.pretrained_g.text() == ""
    assert "f0D40k.pth is not installed" in bases.label.text()
    bases.set_suggestion(suggestion(None), resuming=True)  # a resumed run uses no bases
    assert bases.isHidden() and bases.confirm_start()
