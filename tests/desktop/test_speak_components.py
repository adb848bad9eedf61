"""The Speak page's Qt-free parts: the settings and their sliders, the job's arguments,
what blocks Speak, the model lists, the result, playback positions and messages."""

from __future__ import annotations

import pytest

from desktop.components.speak_session import (
    SpeakResult,
    SpeakSession,
    failed_text,
    progress_text,
    quote,
)
from desktop.components.speak_settings import (
    NO_MODEL,
    NO_TEXT,
    SPEED_STEPS,
    SpeakSettings,
    TtsModel,
    blocker,
    job_args,
    length_scale_at,
    noise_scale_at,
    speed_position,
    speed_text,
    tts_models_from_result,
    variation_position,
    voice_models_from_result,
)

SOLO = TtsModel("export:/p/Anna ü.pth", "Anna ü", "/p/Anna ü.pth", "export", "en", ("anna",),
                22050)
DUO = TtsModel("lib", "Two", "/lib/two.pth", "imported", "en", ("ann", "bob"), 22050)
RESULT = {"out": "/cache/speak 1.wav", "seconds": 4.5, "sample_rate": 22050,
          "sentences": [{"text": "Hello there.", "start": 0.0, "end": 1.2},
                        {"text": "How are you today, my old friend from the far away "
                         "hills of the north?", "start": 1.5, "end": 4.5}],
          "speaker": "bob", "voice": "Alto ü",
          "reading": {"normalized": "hello there", "phonemes": "həloʊ"}}


def test_speed_slider_covers_the_jobs_range_with_the_models_pace_in_the_middle() -> None:
    assert length_scale_at(0) == 1.0
    assert length_scale_at(SPEED_STEPS) == 0.25  # 4x faster
    assert length_scale_at(-SPEED_STEPS) == 4.0
    assert length_scale_at(SPEED_STEPS + 9) == 0.25  # clamped
    assert length_scale_at(20) == 0.5 and speed_text(0.5) == "2.00× faster"
    assert speed_text(1.0) == "1.00× (the model's pace)"
    assert speed_text(2.0) == "0.50× slower"
    for p in range(-SPEED_STEPS, SPEED_STEPS + 1):
        assert speed_position(length_scale_at(p)) == p


def test_variation_keeps_the_vits_default_until_moved() -> None:
    s = SpeakSettings()
    assert s.noise_scale == 0.667 and variation_position(s.noise_scale) == 67
    assert s.with_variation_position(67).noise_scale == 0.67
    assert noise_scale_at(250) == 2.0 and noise_scale_at(-1) == 0.0


def test_job_args_send_the_speaker_only_for_a_multi_speaker_model_and_the_key_with_a_voice(
) -> None:
    s = SpeakSettings(speaker="bob", length_scale=0.5, noise_scale=0.3)
    assert job_args(SOLO, "Hi.", s) == {"model": SOLO.path, "text": "Hi.",
                                        "length_scale": 0.5, "noise_scale": 0.3}
    assert job_args(DUO, "Hi.", s)["speaker"] == "bob"
    assert "speaker" not in job_args(DUO, "Hi.", SpeakSettings(speaker="carl"))
    voiced = job_args(SOLO, "Hi.", SpeakSettings(voice="/lib/Alto ü.pth", voice_key=-5))
    assert voiced["voice"] == "/lib/Alto ü.pth" and voiced["voice_key"] == -5
    assert "voice_key" not in job_args(SOLO, "Hi.", SpeakSettings(voice_key=3))
    original = TtsModel("o", "G_100", "/lib/o/model.pth", config="/lib/o/config.json")
    assert job_args(original, "Hi.", s)["config"] == "/lib/o/config.json"


def test_blocker_names_what_is_missing() -> None:
    s = SpeakSettings()
    assert blocker(None, "Hi", s) == NO_MODEL
    assert blocker(None, "Hi", s, models_loaded=False).startswith("Listing")
    assert blocker(SOLO, "  \n ", s) == NO_TEXT
    assert blocker(SOLO, "Hi", s) == ""
    bad = SpeakSettings(length_scale=8.0, voice_key=40)
    assert blocker(SOLO, "Hi", bad) == ("Check the settings: speed 0.12× is outside 0.25× to "
                                        "4×; key 40 is outside -24 to +24 semitones")


@pytest.mark.parametrize("stored", [None, "junk", [], {"length_scale": "fast"}])
def test_damaged_stored_settings_give_the_defaults(stored) -> None:
    assert SpeakSettings.from_stored(stored) == SpeakSettings()


def test_stored_settings_round_trip_and_are_brought_in_range() -> None:
    s = SpeakSettings(model_id="lib", speaker="bob", length_scale=0.7, noise_scale=0.2,
                      voice="/v.pth", voice_key=7)
    assert SpeakSettings.from_stored(s.to_stored()) == s
    wild = SpeakSettings.from_stored({"length_scale": 99, "noise_scale": -1,
                                      "voice_key": 100.4, "model_id": 3})
    assert (wild.length_scale, wild.noise_scale, wild.voice_key, wild.model_id) == \
        (4.0, 0.0, 24, None)


def test_model_lists() -> None:
    models = tts_models_from_result({"models": [
        {"id": "a", "name": "Anna", "path": "/a.pth", "language": "en", "speakers": ["x", "y"],
         "sample_rate": 22050, "source": "export", "info": "step 2000"},
        {"id": "b", "name": "no path"}, "junk"]})
    assert [m.id for m in models] == ["a"]
    m = models[0]
    assert m.multi_speaker and m.label() == "Anna (en, 2 speakers)"
    assert m.details() == ("Anna: VITS text-to-speech, exported from the open project; "
                           "language en; 22.05 kHz; speakers: x, y; info: step 2000. "
                           "File: /a.pth")
    assert tts_models_from_result({"models": "junk"}) == []
    voices = voice_models_from_result({"models": [
        {"id": "v", "name": "Alto", "path": "/v.pth"},
        {"id": "v2", "name": "Bass", "path": "/b.pth", "kind": "voice"},
        {"id": "t", "name": "Anna", "path": "/a.pth", "kind": "tts"}, {"id": "x"}]})
    assert [v["id"] for v in voices] == ["v", "v2"]


def test_result_summary_and_the_sentence_playing() -> None:
    res = SpeakResult.from_result(RESULT)
    assert res is not None
    assert res.summary() == "Spoke 2 sentences (4.5 s) as bob, in the voice of Alto ü."
    assert [res.sentence_at(t) for t in (-1, 0.0, 1.3, 1.5, 9)] == [None, 0, 0, 1, 1]
    assert SpeakResult.from_result({"seconds": 1}) is None
    one = SpeakResult.from_result({"out": "/x.wav", "seconds": 1, "sentences": [
        {"text": "Hi.", "start": 0, "end": 1}]})
    assert one is not None and one.summary() == "Spoke 1 sentence (1.0 s)."


def test_session_plays_the_last_result_and_ignores_other_playbacks() -> None:
    session = SpeakSession()
    assert session.play_args() is None
    args = {"model": "/m.pth", "text": "Hi"}
    assert session.spoken(args, {"seconds": 1}) is None and session.result is None
    session.spoken(args, RESULT)
    assert session.is_current(dict(args)) and not session.is_current({**args, "text": "Ho"})
    assert session.play_args() == {"path": RESULT["out"], "start": 0.0, "end": None}
    assert not session.on_position({"t": 0.5, "play_id": 7})  # the answer is not here yet
    session.started({"playing": True, "play_id": 7})
    assert not session.on_position({"t": 0.5, "play_id": 6})  # another page's playback
    assert session.on_position({"t": 2.0, "playing": True, "play_id": 7})
    assert session.position_text() == (
        "Playing 0:02.0 of 0:04.5: sentence 2 of 2, “How are you today, my old friend from "
        "the far away hills of…”")
    assert session.on_position({"t": 4.5, "play_id": 7}, finished=True)
    assert not session.playing


def test_progress_and_failure_words() -> None:
    assert progress_text("speaking", 1, 5) == "Speaking sentence 2 of 5…"
    assert progress_text("speaking", 5, 5) == "Speaking sentence 5 of 5…"
    assert progress_text("speaking", 0, 1) == "Speaking…"
    assert progress_text("converting", 0, 0, "Alto ü") == \
        "Converting into the voice of Alto ü…"
    assert progress_text("starting", 0, 0) == "Loading the model…"
    text = failed_text("not_a_voice_model", "x.pth is a VITS model", "Speaking failed")
    assert text.startswith("Speaking failed: x.pth is a VITS model\n“In the voice of” needs")
    assert failed_text("bad_arguments", "unknown speaker 'zed'", "Could not start "
                       "speaking") == "Could not start speaking: unknown speaker 'zed'"
    assert quote("a  b\nc") == "“a b c”"
