"""The Train page's model kind without Qt: voice conversion or text-to-speech, the TTS
options and job arguments, the suggestion of each kind, each kind's runs, the curves'
names in words, and the export of a text-to-speech run."""

from __future__ import annotations

from pathlib import Path

from desktop.components.job_handle import JobHandle
from desktop.components.metrics import TERMS, term_hint, term_label, term_short
from desktop.components.train_choices import TrainChoices
from desktop.components.train_kind import (
    language_choices,
    new_run_name,
    runs_of_kind,
)
from desktop.components.train_output import INDEX, MODEL, PACKAGE, OutputContext, TrainOutput
from desktop.components.train_runs import TrainRun, latest_run, runs_from_result
from desktop.components.train_settings import TrainSettings, TrainSuggestion, form_settings

# the shape of backend/commands/train.py suggest_tts's answer
TTS_SUGGEST = {
    "model": "vits", "ready": True, "problems": [], "language": "en",
    "languages": {"zh": 3, "en": 137}, "speakers": ["Anna", "Bert"], "sample_rate": 22050,
    "labelled_seconds": 750.0, "labelled_rows": 140, "dataset_seconds": 750.0,
    "suggestion": {"epochs": 400, "learning_rate": 0.0002, "batch_size": 16, "save_every": 5,
                   "base_g": None, "base_d": None, "mode": "fine-tune",
                   "text": "Text-to-speech needs about an hour of labelled speech."},
    "bases": {"g": None, "d": None}, "base_assets": {"g": None, "d": None}}
RVC_SUGGEST = {"model": "rvc", "ready": True, "problems": [], "version": "v2",
               "sample_rate": 40000, "dataset_seconds": 600.0,
               "suggestion": {"epochs": 150, "learning_rate": 0.0001, "batch_size": 8,
                              "save_every": 15, "mode": "fine-tune"}}


def _run(name: str, model: str | None, checkpoints: int = 0, metrics: str = "") -> dict:
    config = {"model": model, "size": "tiny"} if model else {}
    if model == "rvc-old":
        config = {"version": "v2", "size": "tiny"}  # a run.json from before text-to-speech
    return {"name": name, "metrics": metrics, "config": config,
            "checkpoints": [{"path": f"/r/{name}/ckpt_{n}.pt", "step": n}
                            for n in range(1, checkpoints + 1)]}


def test_tts_settings_send_language_and_duration_and_rvc_does_not() -> None:
    tts = TrainSettings(model="vits", size="tiny", duration="deterministic")
    args = tts.to_job_args("/p ü")
    assert args["model"] == "vits" and args["size"] == "tiny"
    assert args["language"] is None  # from the labels: the job picks the most common one
    assert args["duration"] == "deterministic"
    assert TrainSettings(model="vits", language="zh").to_job_args("/p")["language"] == "zh"
    rvc = TrainSettings().to_job_args("/p")
    assert rvc["model"] == "rvc" and "language" not in rvc and "duration" not in rvc
    assert tts.validate() == {}
    bad = TrainSettings(model="vits", language="English!", duration="random").validate()
    assert set(bad) == {"language", "duration"}
    assert "'English!' is not a language code" in bad["language"]
    assert TrainSettings(language="English!").validate() == {}  # rvc: not used, not checked
    assert "voice conversion (rvc) or text-to-speech (vits)" in \
        TrainSettings(model="gpt").validate()["model"]


def test_language_choices_put_the_labels_languages_first() -> None:
    choices = language_choices(["zh", "en", "bad code", 5], "zh")  # type: ignore[list-item]
    assert list(choices) == ["", "zh", "en", "ja"]
    assert choices[""] == "From the labels: Chinese (zh)"
    assert choices["en"] == "English (en)"
    assert language_choices()[""] == "From the labels (the most common language)"


def test_tts_suggestion_says_how_much_labelled_audio_there_is() -> None:
    sug = TrainSuggestion.from_result(TTS_SUGGEST)
    assert sug.model == "vits" and sug.ready
    assert (sug.labelled_seconds, sug.labelled_rows) == (750.0, 140)
    assert sug.languages == ["en", "zh"]  # the most common first
    assert sug.speakers == ["Anna", "Bert"] and sug.language == "en"
    assert sug.summary() == ("Text-to-speech · 12.5 min of labelled audio in 140 rows · "
                             "English (en) · 2 speakers · fine-tune")
    assert sug.text == "Text-to-speech needs about an hour of labelled speech."
    s = sug.settings
    assert (s.model, s.epochs, s.batch_size, s.learning_rate) == ("vits", 400, 16, "0.0002")
    assert sug.missing_bases() == {} and sug.bases_text() == ""
    assert sug.enough_data is None
    few = TrainSuggestion.from_result({**TTS_SUGGEST, "recommendation": {"enough_data": False}})
    assert few.enough_data is False
    rvc = TrainSuggestion.from_result(RVC_SUGGEST)
    assert rvc.model == "rvc" and rvc.summary().startswith("v2 · 40 kHz")
    assert TrainSuggestion.from_result({"model": "vits", "labelled_seconds": 40}).summary() \
        == "Text-to-speech · 40 s of labelled audio"


def test_each_run_has_a_kind_and_each_kind_shows_its_own_latest_run(tmp_path: Path) -> None:
    metrics = tmp_path / "m.jsonl"
    metrics.write_text("{}\n", encoding="utf-8")
    runs = runs_from_result({"runs": [
        _run("main", "rvc-old", 2), _run("tts", "vits", 1, str(metrics)), _run("empty", None)]})
    assert [r.model for r in runs] == ["rvc", "vits", None]
    assert [r.name for r in runs_of_kind(runs, "vits")] == ["tts"]
    assert latest_run(runs).name == "tts"  # newest metrics file, whatever its kind
    assert latest_run(runs, "rvc").name == "main" and latest_run(runs, "vits").name == "tts"
    assert latest_run([], "vits") is None


def test_a_new_run_never_takes_the_folder_of_a_run_of_the_other_kind() -> None:
    def runs(*entries: dict) -> list[TrainRun]:
        return runs_from_result({"runs": list(entries)})

    assert new_run_name("vits", []) == "main"
    assert new_run_name("vits", runs(_run("main", "rvc-old", 3))) == "tts"
    assert new_run_name("vits", runs(_run("main", "rvc"), _run("tts", "rvc", 1))) == "tts 2"
    assert new_run_name("rvc", runs(_run("main", "vits", 1))) == "voice"
    assert new_run_name("vits", runs(_run("main", "vits"))) == "main"  # no checkpoint: reused
    assert new_run_name("vits", runs(_run("main", "vits", 2))) == "tts"  # resumable: not new
    assert new_run_name("rvc", runs(_run("main", None))) == "main"  # nothing in it yet


def test_form_settings_per_kind(tmp_path: Path) -> None:
    sug = TrainSuggestion.from_result(TTS_SUGGEST)
    rvc_run = runs_from_result({"runs": [_run("main", "rvc-old", 2)]})
    s = form_settings(sug, None, "vits", rvc_run)
    assert (s.model, s.run, s.epochs) == ("vits", "tts", 400)
    run = TrainRun.from_dict({"name": "tts", "checkpoints": [{"path": "c", "step": 4}],
                              "config": {"model": "vits", "size": "tiny", "language": "zh",
                                         "duration": "deterministic", "epochs": 3,
                                         "learning_rate": 0.0003}})
    resumed = form_settings(sug, run, "vits", [run])
    assert (resumed.model, resumed.run, resumed.size, resumed.language, resumed.duration,
            resumed.epochs, resumed.learning_rate) == ("vits", "tts", "tiny", "zh",
                                                       "deterministic", 3, "0.0003")


def test_choices_keep_a_suggestion_per_kind_and_the_values_left() -> None:
    c = TrainChoices()
    c.reset("vits")
    assert c.kind == "vits" and c.suggestion is None
    assert c.take_suggestion("vits", TTS_SUGGEST) is True
    assert c.take_suggestion("vits", TTS_SUGGEST) is False  # not the first any more
    assert c.suggestion is not None and c.suggestion.labelled_rows == 140
    edited = TrainSettings(model="rvc", epochs=7, run="main")  # the kind field already moved
    c.switch("rvc", edited)
    assert c.kind == "rvc" and c.suggestion is None
    # a backend that knows one kind answers for it: kept there, the asked one has none
    assert c.take_suggestion("rvc", TTS_SUGGEST) is False
    assert c.error == ("The backend has no suggestion for voice conversion training (it "
                       "answered for text-to-speech).")
    assert c.take_suggestion("rvc", RVC_SUGGEST) is True and c.error == ""
    assert c.form_values().epochs == 150
    c.switch("vits", c.form_values())
    left = c.form_values()
    assert (left.epochs, left.model) == (7, "vits")  # what the user left
    assert c.form_values().epochs == 400  # once: then the suggestion
    c.reset("rvc")
    assert c.suggestions == {} and c.left == {} and c.kind == "rvc"


def test_every_curve_has_a_name_in_words() -> None:
    assert term_label("loss_mel") == "How far the sound is from the recording (mel)"
    assert term_label("loss_kl") == "Prior fit (KL)"
    assert term_label("loss_dur") == "Timing of sounds (duration)"
    assert term_label("loss_adv") == "Fooling the critic (adversarial)"
    assert term_label("loss_fm").startswith("Matching the critic's features")
    assert term_label("loss_d") == "Critic (discriminator)"
    for key in ("loss_g", "grad_norm_g", "grad_norm_d", "lr", "step_time", "samples_per_s",
                "gpu_mem_mb"):
        assert key in TERMS and term_label(key) != key
    assert term_label("loss_new") == "loss_new" and term_short("loss_new") == "loss_new"
    assert term_short("loss_dur") == "duration"
    assert term_hint("loss_mel").endswith("(logged as loss_mel)")


def _finished(job_id: str, result: dict) -> JobHandle:
    job = JobHandle("export", {}, request_id="r" + job_id)
    job.apply("job.started", {"job_id": job_id, "kind": "export"})
    job.apply("job.finished", {"job_id": job_id, "kind": "export", "status": "ok",
                               "result": result})
    return job


def test_export_of_a_tts_run() -> None:
    out = TrainOutput()
    out.context = OutputContext(project="/p/Voice ü", file_stem="Voice ü", run="tts",
                                has_checkpoint=True, features_ready=None, model="vits")
    assert "uses no retrieval index" in out.blocker(INDEX)
    assert out.blocker(MODEL) == "" and out.blocker(PACKAGE) == ""
    assert out.default_path(MODEL) == str(Path("/p/Voice ü/export/Voice ü tts.pth"))
    out.follow(MODEL, _finished("job-1", {"model": "vits", "path": "/x/Voice ü tts.pth",
                                          "package": None, "step": 4, "epoch": 2,
                                          "language": "en", "speakers": ["Voice ü"]}))
    assert out.result_path() == "/x/Voice ü tts.pth"
    assert out.result_text() == ("Text-to-speech model exported from the checkpoint of "
                                 "step 4, epoch 2: pick it on the Speak page.")
    out.follow(PACKAGE, _finished("job-2", {"model": "vits", "path": "/x/a.zip",
                                            "package": "/x/a.zip", "step": 4, "epoch": 2}))
    assert out.result_path() == "/x/a.zip"
    assert "the text-to-speech model, its config.json and a model card" in out.result_text()


def test_the_job_log_keeps_each_bases_report_apart_from_the_warnings() -> None:
    from desktop.components.train_log import JobLog

    log = JobLog(["/b ü/G_1000.pth", None])
    assert log.take("info", "training on 4 clips") == ""
    assert log.take("info", "G_1000.pth: loaded 272 tensors") == "report"
    assert log.take("info", "  adapted enc_p.emb.weight: 46 mapped") == "report"
    assert log.take("warning", "  skipped dp.flows.0: file has [1], model needs [2]") == "report"
    assert log.take("warning", "2 labelled clips are left out: a.wav (too short)") == "warning"
    assert log.take("info", "  indented, but after the report") == ""
    assert log.report_text() == ("Pretrained bases:\nG_1000.pth: loaded 272 tensors\n"
                                 "  adapted enc_p.emb.weight: 46 mapped\n"
                                 "  skipped dp.flows.0: file has [1], model needs [2]")
    assert log.warnings_text() == "⚠ 2 labelled clips are left out: a.wav (too short)"
    for n in range(7):
        log.take("error", f"e{n}")
    assert log.warnings == ["e2", "e3", "e4", "e5", "e6"]
    assert JobLog().report_text() == ""
