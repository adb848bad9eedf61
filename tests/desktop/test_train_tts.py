"""The Train page for text-to-speech, on sessions recorded from the real backend
(tests/desktop/record_tts_train_sessions.py): a vits project of two speakers whose clips
all have their text."""

from __future__ import annotations

from desktop.components.train_settings import TrainSettings
from tests.desktop.record_tts_train_sessions import SNOWMAN_LINE, tts_args
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
