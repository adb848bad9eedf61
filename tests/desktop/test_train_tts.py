"""The Train page for text-to-speech, on sessions recorded from the real backend
(tests/desktop/record_tts_train_sessions.py): a vits project of two speakers whose clips
all have their text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.components.metrics import term_label
from desktop.components.train_output import MODEL, PACKAGE
from desktop.components.train_settings import TrainSettings
from tests.desktop.conftest import fake_command
from tests.desktop.record_tts_train_sessions import SNOWMAN_LINE, tts_args, tts_outputs
from tests.desktop.test_train_page import _page, _received, _received_wait

TTS_FORM = TrainSettings(model="vits", epochs=2, batch_size=2, learning_rate="2e-4",
                         save_every=1, keep_last=3, size="tiny", device="cpu",
                         duration="deterministic")


def test_a_tts_project_opens_on_text_to_speech_and_a_refused_start_names_the_line(
        qtbot, make_client, tmp_path) -> None:
    """tts_unreadable_real.jsonl: line 2 of the Labels table holds a snowman."""
    page, _client, sig, project = _page(qtbot, make_client, tmp_path,
                                        "tts_unreadable_real.jsonl")
    qtbot.waitUntil(lambda: page.suggestion is not None and page.start_btn.isEnabled(),
                    timeout=5000)
    form = page.form
    assert page.kind == "vits" and form.model_kind.currentText() == "Text-to-speech"
    assert _received(sig, "train.suggest")[0]["args"] == {"project": str(project),
                                                          "model": "vits"}
    assert not form.language.isHidden() and not form.duration.isHidden()
    assert form.language.currentText() == "From the labels: English (en)"
    assert form.model_size.currentText() == "Standard (as VITS ljs_base)"
    text = page.suggestion_label.text()
    assert text.startswith("Text-to-speech · 7 s of labelled audio in 4 rows · English (en) · "
                           "2 speakers")
    assert "Text-to-speech needs at least 5 minutes of clips with their text" in text
    assert "#8a5a00" in page.suggestion_label.styleSheet()  # too little: said as a warning
    assert page.bases.isHidden()  # no recommended text-to-speech base to miss
    assert page.output.index_btn.isHidden() and page.output.title() == "Export"
    assert "no checkpoint yet" in page.output.model_btn.toolTip()
    assert "test sentence spoken" in page.files.samples_title.text()

    form.set_values(TTS_FORM)
    assert page.start_training() is not None
    sent = _received_wait(qtbot, sig, "job.start")[0]["args"]
    assert sent == {"kind": "train", "args": tts_args(project)}  # what was recorded
    qtbot.waitUntil(lambda: "Could not start" in page.status_label.text(), timeout=5000)
    status = page.status_label.text()
    assert f"line {SNOWMAN_LINE} (take 1.wav" in status and "SNOWMAN (U+2603)" in status
    assert "Check texts finds them all" in status
    assert page.start_btn.isEnabled() and form.isEnabled()


def test_voice_conversion_rows_are_hidden_for_it_and_switching_keeps_each_kinds_values(
        qtbot, make_client, tmp_path) -> None:
    page, _client, sig, _project = _page(qtbot, make_client, tmp_path,
                                         "tts_unreadable_real.jsonl")
    qtbot.waitUntil(lambda: page.suggestion is not None, timeout=5000)
    form = page.form
    form.epochs.setValue(7)
    form.duration.setCurrentIndex(form.duration.findData("deterministic"))
    form.model_kind.setCurrentIndex(form.model_kind.findData("rvc"))  # as the user does
    assert page.kind == "rvc" and form.language.isHidden() and form.duration.isHidden()
    assert form.model_size.currentText() == "Standard (RVC v2)"
    assert not page.output.index_btn.isHidden()
    assert page.suggestion is None  # asked; this replay has no answer for it
    qtbot.waitUntil(lambda: len(_received(sig, "train.suggest")) == 2, timeout=5000)
    asked = _received(sig, "train.suggest")
    assert asked[1]["args"]["model"] == "rvc"
    assert not page.start_btn.isEnabled()
    assert form.values().epochs != 7 and form.values().to_job_args("p")["model"] == "rvc"
    form.model_kind.setCurrentIndex(form.model_kind.findData("vits"))
    s = form.values()
    assert (s.model, s.epochs, s.duration) == ("vits", 7, "deterministic")  # as left
    assert page.suggestion is not None and page.suggestion.labelled_rows == 4


def _recorded(name: str) -> list[dict]:
    path = Path(__file__).parent / "sessions" / name
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_tts_training_shows_its_curves_in_words_plays_samples_and_exports(
        qtbot, make_client, tmp_path) -> None:
    """tts_train_real.jsonl: a look at voice conversion (no features), back to
    text-to-speech, 2 epochs of a tiny model, then the model and the package exported."""
    recorded = [m["data"] for m in _recorded("tts_train_real.jsonl")
                if m.get("event") == "job.metrics"]
    page, _client, sig, project = _page(qtbot, make_client, tmp_path, "tts_train_real.jsonl")
    qtbot.waitUntil(lambda: page.suggestion is not None and page.start_btn.isEnabled(),
                    timeout=5000)
    form = page.form
    assert page.runs == [] and page.shown_run is None
    form.model_kind.setCurrentIndex(form.model_kind.findData("rvc"))
    qtbot.waitUntil(lambda: page.suggestion is not None, timeout=5000)
    assert page.suggestion.model == "rvc" and not page.start_btn.isEnabled()
    assert "no features: run Extract first" in page.problems_label.text()
    form.model_kind.setCurrentIndex(form.model_kind.findData("vits"))
    qtbot.waitUntil(lambda: len(_received(sig, "train.suggest")) == 3, timeout=5000)
    assert [r["args"]["model"] for r in _received(sig, "train.suggest")] == \
        ["vits", "rvc", "vits"]
    assert page.problems_label.text() == "" and page.start_btn.isEnabled()

    form.set_values(TTS_FORM)
    assert page.start_training() is not None
    sent = _received_wait(qtbot, sig, "job.start")[0]["args"]
    assert sent == {"kind": "train", "args": tts_args(project)}  # what was recorded
    qtbot.waitUntil(lambda: not page.session.running and page.session.status != "",
                    timeout=10000)
    assert page.status_label.text() == "Training finished at step 4, epoch 2."
    page.plot.repaint_curves()
    for term in ("loss_mel", "loss_kl", "loss_dur", "loss_adv", "loss_fm", "loss_d"):
        curve = page.plot.curve(term)
        assert curve is not None and list(curve.xData) == [1, 2, 3, 4], term
        assert list(curve.yData) == pytest.approx([r[term] for r in recorded]), term
        assert page.plot.checkbox(term).text().replace("\n", " ") == term_label(term)
    assert "(logged as loss_dur)" in page.plot.checkbox("loss_dur").toolTip()
    assert "duration" in page.plot.readout_at(3) and "mel" in page.plot.readout_at(3)

    assert [(s.step, s.epoch) for s in page.session.samples] == [(2, 1), (4, 2)]
    page.samples_table.cellWidget(1, 2).click()  # Play: the test sentence at step 4
    play = _received_wait(qtbot, sig, "audio.play")[0]["args"]
    assert play == {"path": str(project / "train" / "main" / "samples" / "step_000000004.wav"),
                    "start": 0, "end": None}
    assert page.files.audio_label.text() == "Playing the sample of step 4…"

    qtbot.waitUntil(lambda: bool(page.runs) and page.shown_run is not None, timeout=5000)
    assert page.shown_run.name == "main" and page.shown_run.model == "vits"
    # Start would resume it as it was trained: the language its run.json keeps
    resume = page.form.values().to_job_args(str(project))
    assert resume == {**tts_args(project), "language": "en"}
    assert page.form.language.currentText() == "English (en)"
    out = tts_outputs(tmp_path)
    output = page.output
    assert output.model_btn.isEnabled() and "Speak page" in output.model_btn.toolTip()
    for action, text in ((MODEL, "Text-to-speech model exported from the checkpoint of step "
                                 "4, epoch 2: pick it on the Speak page."),
                         (PACKAGE, "Package exported from the checkpoint of step 4, epoch 2: "
                                   "the text-to-speech model, its config.json and a model "
                                   "card.")):
        job = output.export(action, str(out[action]))
        qtbot.waitUntil(lambda job=job: job.finished, timeout=5000)
        assert output.result_label.text() == text
        assert output.path_edit.text() == str(out[action])
    exports = [r["args"]["args"] for r in _received(sig, "job.start")
               if r["args"]["kind"] == "export"]
    assert exports == [{"project": str(project), "run": "main", "out": str(out[key])}
                       for key in ("model", "package")]


def _tts_layout_session(folder: Path) -> Path:
    """The hello, ``project.open``, ``train.suggest`` and the final ``train.runs`` (with the
    run's metrics file) of tts_train_real.jsonl: a text-to-speech project with a run."""
    lines = _recorded("tts_train_real.jsonl")
    opened = _answer(lines, "project.open")
    runs_at = max(i for i, m in enumerate(lines) if m.get("cmd") == "train.runs")
    metrics = next(m for m in lines[runs_at:] if m.get("fake") == "write")
    runs = next(m for m in lines[runs_at:] if m.get("type") == "result")
    out = [lines[1], lines[2], {"fake": "await", "cmd": "project.open", "as": "1"}, opened,
           {"fake": "await", "cmd": "train.suggest", "as": "2"}, _answer(lines, "train.suggest"),
           {"fake": "await", "cmd": "train.runs", "as": "3"}, metrics, {**runs, "id": "3"}]
    path = folder / "tts layout.jsonl"
    path.write_text("\n".join(json.dumps(m, ensure_ascii=False) for m in out) + "\n",
                    encoding="utf-8")
    return path


def _answer(lines: list[dict], cmd: str) -> dict:
    at = next(i for i, m in enumerate(lines) if m.get("cmd") == cmd and m.get("fake"))
    reply = next(m for m in lines[at + 1:] if m.get("type") in ("result", "error"))
    return {**reply, "id": {"project.open": "1", "train.suggest": "2"}[cmd]}


@pytest.mark.parametrize("size", ((1024, 700), (1920, 1080)), ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_tts_train_page_fits_a_laptop_and_a_large_screen(qtbot, make_client, qsettings,
                                                             tmp_path, size) -> None:
    from desktop.ui.main_window import MainWindow
    from tests.desktop.test_layout import (
        LONG,
        hover_loss_plot,
        settled_problems,
        status_labels,
    )

    client, _sig = make_client([*fake_command("hello_ping.jsonl")[:2],
                                str(_tts_layout_session(tmp_path)), str(tmp_path)])
    win = MainWindow(client, qsettings)
    qtbot.addWidget(win)
    client.start()
    win.resize(*size)
    win.show()
    qtbot.waitExposed(win)
    win.controller.open(str(tmp_path / "Voice ü"))
    page = win.train_page
    win.show_page("train")
    qtbot.waitUntil(lambda: page.suggestion is not None and page.history.last_step == 4,
                    timeout=5000)
    assert page.kind == "vits" and not page.form.language.isHidden()
    page.plot.repaint_curves()
    hover_loss_plot(page)
    assert page.plot.readout.text().startswith("step ")
    for label in status_labels(page):
        label.setText(LONG)
    found = settled_problems(qtbot, win)
    assert not found, "\n".join(found)
    assert (win.width(), win.height()) == size, "the window grew"
    assert win.minimumSizeHint().width() <= 1024 and win.minimumSizeHint().height() <= 700


def test_a_tts_base_is_used_and_its_symbol_mapping_is_shown(qtbot, make_client,
                                                            tmp_path) -> None:
    """tts_base_real.jsonl: one epoch from an original G_1000.pth with a 50-symbol table (5
    symbols the English front-end lacks) and three speakers; the backend logs the fit as
    info lines, which the page shows as the base's report."""
    from desktop.components.train_kind import PRETRAINED_TIPS
    from tests.desktop.record_tts_train_sessions import BASE_G, BASE_ODD

    page, _client, sig, project = _page(qtbot, make_client, tmp_path, "tts_base_real.jsonl")
    qtbot.waitUntil(lambda: page.suggestion is not None and page.start_btn.isEnabled(),
                    timeout=5000)
    form = page.form
    assert form.pretrained_g.toolTip() == PRETRAINED_TIPS["vits"]
    form.set_values(TrainSettings(**{**TTS_FORM.__dict__, "epochs": 1,
                                     "pretrained_g": str(tmp_path / BASE_G)}))
    assert page.start_btn.isEnabled()
    assert page.start_training() is not None
    sent = _received_wait(qtbot, sig, "job.start")[0]["args"]["args"]
    assert sent == {**tts_args(project), "epochs": 1, "pretrained_g": str(tmp_path / BASE_G)}
    qtbot.waitUntil(lambda: page.session.status == "ok", timeout=10000)
    report = page.controls.report_label
    assert report.isVisibleTo(page) and report.text().startswith(
        "Pretrained bases:\nG_1000.pth: loaded 272 tensors\n  adapted enc_p.emb.weight: "
        "symbol table 50 -> 178 symbols")
    text = report.text()
    assert "5 of the base dropped" in text and all(f"'{s}'" in text for s in BASE_ODD)
    assert "emb_g.weight: speaker table [3, 16] -> [2, 16]; 1 kept by name: 'Anna'" in text
    assert report.toolTip() == text  # cut to four lines in view, whole in the tooltip
    assert not page.warnings_label.isVisibleTo(page)  # a clean fit: nothing to warn about


def test_a_tts_run_in_a_voice_project_gets_its_own_folder_and_each_kind_its_curves(
        qtbot, make_client, tmp_path) -> None:
    """train_resume_real.jsonl (real backend): a voice-conversion project whose run "main"
    has a checkpoint. Text-to-speech must not resume (or overwrite) that run."""
    from tests.desktop.record_train_sessions import resume_args

    page, _client, sig, project = _page(qtbot, make_client, tmp_path, "train_resume_real.jsonl")
    qtbot.waitUntil(lambda: page.shown_run is not None and page.suggestion is not None,
                    timeout=5000)
    form = page.form
    assert page.kind == "rvc" and page.history.last_step == 2
    assert page.checkpoints_table.rowCount() == 1
    form.model_kind.setCurrentIndex(form.model_kind.findData("vits"))
    assert form.values().run == "tts" and page.shown_run is None
    assert page.history.last_step == 0 and page.history.terms() == []
    assert page.checkpoints_table.rowCount() == 0 and page.samples_table.rowCount() == 0
    assert "no checkpoint yet" in page.output.model_btn.toolTip()
    qtbot.waitUntil(lambda: len(_received(sig, "train.suggest")) == 2, timeout=5000)
    assert _received(sig, "train.suggest")[1]["args"]["model"] == "vits"
    assert not page.start_btn.isEnabled()  # no answer for text-to-speech in this replay
    form.model_kind.setCurrentIndex(form.model_kind.findData("rvc"))
    assert page.shown_run is not None and page.shown_run.name == "main"
    assert page.history.last_step == 2 and page.checkpoints_table.rowCount() == 1
    assert form.values().to_job_args(str(project)) == resume_args(project)
    assert page.start_btn.isEnabled()
