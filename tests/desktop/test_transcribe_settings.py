"""The transcription form's logic without Qt: the engines reply, the choices, the job args."""

from __future__ import annotations

from desktop.components.job_handle import JobHandle
from desktop.components.settings import AppSettings, JsonSettingsStore
from desktop.components.transcribe_settings import (
    DETECT_LABEL,
    SETTINGS_KEY,
    EngineList,
    TranscribeSettings,
    finished_text,
    language_label,
    progress_text,
    summary_text,
)

ENGINES = {
    "engines": [
        {"name": "pocketsphinx", "title": "PocketSphinx", "languages": ["en"], "offline": True,
         "models": [{"name": "en-us", "installed": True, "size": None, "asset": None}]},
        {"name": "faster-whisper", "title": "faster-whisper", "languages": None,
         "offline": False,
         "models": [{"name": "tiny", "installed": False, "size": 75_500_000,
                     "asset": "whisper-tiny"},
                    {"name": "small", "installed": True, "size": 484_000_000,
                     "asset": "whisper-small"}]},
        {"name": "bad"}, "nonsense", {"title": "no name"},
        {"name": "funasr", "title": "FunASR", "languages": ["zh"], "available": False,
         "problem": "the funasr package is not installed", "models": []},
    ],
    "default": "pocketsphinx",
}


def engines() -> EngineList:
    return EngineList.from_result(ENGINES)


def test_engines_reply_is_read_and_bad_entries_are_skipped() -> None:
    e = engines()
    assert e.names() == ["pocketsphinx", "faster-whisper", "bad", "funasr"]
    assert e.default == "pocketsphinx" and e.engine("funasr").problem == (
        "the funasr package is not installed") and e.engine("bad").problem is None
    whisper = e.engine("faster-whisper")
    assert whisper.languages is None and whisper.takes_folder and not whisper.offline
    assert [m.label() for m in whisper.models] == ["tiny — 75.5 MB to download",
                                                   "small (installed)"]
    assert whisper.default_model() == "small"  # the first installed one
    assert whisper.language_choices()[:6] == [None, "en", "zh", "ja", "ko", "yue"]
    sphinx = e.engine("pocketsphinx")
    assert sphinx.language_choices() == ["en"] and not sphinx.takes_folder
    assert e.engine("bad").models == () and e.engine("bad").default_model() is None
    assert EngineList.from_result({"engines": [ENGINES["engines"][1]],
                                   "default": "gone"}).default == "faster-whisper"
    assert language_label(None) == DETECT_LABEL and language_label("yue") == "Cantonese (yue)"
    assert language_label("xx") == "xx"


def test_fit_moves_choices_to_what_the_engine_offers() -> None:
    e = engines()
    assert TranscribeSettings().fit(e) == TranscribeSettings(
        engine="pocketsphinx", model="en-us", language="en")
    s = TranscribeSettings(engine="faster-whisper", model="gone", language="de",
                           device="tpu").fit(e)
    assert (s.model, s.language, s.device) == ("small", "de", "auto")
    s = TranscribeSettings(engine="faster-whisper", model="/models/large ü", language=None)
    assert s.fit(e) == s  # a model folder and detection stay
    # a model name of another engine does not carry over
    s = TranscribeSettings(engine="pocketsphinx", model="/models/large ü", language="ja")
    assert (s.fit(e).model, s.fit(e).language) == ("en-us", "en")
    # an engine that cannot run here gives way to the default
    assert TranscribeSettings(engine="funasr").fit(e).engine == "pocketsphinx"
    assert e.usable("funasr").name == "pocketsphinx" and e.usable("bad").name == "bad"


def test_validate_names_each_problem() -> None:
    e = engines()
    ok = TranscribeSettings("faster-whisper", "small", None, "cuda", True, 30.0)
    assert ok.validate(e, cuda=True) == []
    assert ok.validate(e, cuda=False) == [
        "the backend found no CUDA device; choose Automatic or CPU"]
    assert TranscribeSettings("faster-whisper", "/m/x").validate(e) == []
    problems = TranscribeSettings("pocketsphinx", "nope", "zh", "gpu", cut_long=2.0).validate(e)
    assert problems == ["choose a model for PocketSphinx",
                        "PocketSphinx transcribes only English (en)",
                        "device must be one of auto, cpu, cuda",
                        "cut recordings longer than 5 to 3600 s, not 2"]
    assert TranscribeSettings("whisperx").validate(e) == [
        "unknown engine 'whisperx'; choose one of pocketsphinx, faster-whisper, bad, funasr"]
    assert TranscribeSettings("funasr", language="zh").validate(e) == [
        "FunASR cannot run: the funasr package is not installed"]
    assert TranscribeSettings("bad").validate(e) == []  # no models: nothing to choose
    assert "has not said" in TranscribeSettings().validate(None)[0]


def test_a_model_to_download_is_a_missing_asset() -> None:
    e = engines()
    missing = TranscribeSettings("faster-whisper", "tiny").missing_asset(e)
    assert (missing.name, missing.size, missing.size_text) == ("whisper-tiny", 75_500_000,
                                                                "75.5 MB")
    assert "faster-whisper tiny model (whisper-tiny)" in missing.text()
    assert missing.download_command == "python -m backend assets download whisper-tiny"
    for installed in (TranscribeSettings("faster-whisper", "small"),
                      TranscribeSettings("faster-whisper", "/m/x"),
                      TranscribeSettings("pocketsphinx", "en-us")):
        assert installed.missing_asset(e) is None
    assert TranscribeSettings("faster-whisper", "tiny").missing_asset(None) is None


def test_job_args_leave_out_what_is_automatic() -> None:
    e = engines()
    project = "/p/Voice ü"
    assert TranscribeSettings("pocketsphinx", "en-us", "en").to_job_args(project, e) == {
        "project": project, "engine": "pocketsphinx", "model": "en-us", "language": "en"}
    assert TranscribeSettings("faster-whisper", "/m/large v3 ü", None, "cuda", True,
                              45.0).to_job_args(project, e) == {
        "project": project, "engine": "faster-whisper", "model": "/m/large v3 ü",
        "device": "cuda", "redo": True, "cut_long": 45.0}
    assert TranscribeSettings("bad", "x").to_job_args(project, e) == {
        "project": project, "engine": "bad"}  # an engine without models gets none


def test_choices_are_kept_in_the_app_settings_but_redo_is_not(tmp_path) -> None:
    settings = AppSettings(JsonSettingsStore(tmp_path / "settings ü.json"))
    s = TranscribeSettings("faster-whisper", "small", "ja", "cpu", True, 20.0)
    settings.store.set(SETTINGS_KEY, s.to_stored())
    again = AppSettings(JsonSettingsStore(tmp_path / "settings ü.json"))
    assert TranscribeSettings.from_stored(again.store.get(SETTINGS_KEY)) == \
        TranscribeSettings("faster-whisper", "small", "ja", "cpu", False, 20.0)
    assert TranscribeSettings.from_stored("junk") == TranscribeSettings()
    assert TranscribeSettings.from_stored({"engine": 3, "device": "tpu", "cut_long": True,
                                           "model": ""}) == TranscribeSettings()


def _job(state: str, **data) -> JobHandle:
    job = JobHandle("transcribe", {}, job_id="job-1")
    job.apply("job.started", {"job_id": "job-1", "kind": "transcribe"})
    job.apply("job.progress", {"stage": "transcribing", "detail": "take 1.wav 0:03.2–0:05.8",
                               "done": 12.0, "total": 40.0, "eta": 30})
    if state != "running":
        job.apply("job.finished", {"status": state, **data})
    return job


def test_progress_and_finished_texts() -> None:
    assert progress_text(_job("running")) == (
        "transcribing take 1.wav 0:03.2–0:05.8 — 12.0 of 40.0 s of audio, 30 s left")
    text = summary_text({"transcribed": 12, "skipped": 3, "flagged": 2, "seconds": 4.12,
                         "cut_sources": ["s1"], "engine": "pocketsphinx",
                         "failed": [{"id": f"r{i}", "message": "unreadable"} for i in range(12)]})
    assert text.line == ("Transcribed 12 clip(s) in 4.1 s; 3 skipped (done before, or your "
                         "text); 2 flagged for review. 1 long recording(s) cut at word "
                         "boundaries: Prepare applies the cuts. 12 clip(s) failed.")
    assert text.error and text.details[0] == "r0: unreadable" and len(text.details) == 11
    assert text.details[-1] == "…and 2 more"
    plain = summary_text({"transcribed": 1, "skipped": 0, "flagged": 0, "cut_sources": 0,
                          "failed": []})
    assert plain.line == "Transcribed 1 clip(s); 0 skipped (done before, or your text)."
    assert not plain.error
    assert finished_text(_job("ok", result={"transcribed": 1})).line.startswith("Transcribed 1")
    assert finished_text(_job("cancelled")).line.startswith("Transcription cancelled; the "
                                                            "clips transcribed so far")
    failed = finished_text(_job("failed", error={"code": "io_error", "message": "disk full"}))
    assert failed.line == "Transcription failed: disk full" and failed.error
    refused = JobHandle("transcribe", {}, request_id="3")
    refused.refuse("busy", "the project is busy with prepare")
    assert finished_text(refused).line == ("Could not start the transcription: the project is "
                                           "busy with prepare")
