"""The Convert page's Qt-free parts: the settings form model against the backend's own
ConvertSettings, the queue, the results from convert.file events, A/B playback, Save as."""

from __future__ import annotations

import os
from dataclasses import fields, replace
from pathlib import Path

import pytest

from backend.convert import settings as backend_settings
from backend.dataset.sources import AUDIO_EXTENSIONS as BACKEND_AUDIO
from backend.kernel import BadArgs
from desktop.components.convert_session import (
    AUDIO_EXTENSIONS,
    ORIGINAL,
    RESULT,
    ABPlayback,
    ConvertSession,
    FileResult,
    fmt_seconds,
    progress_text,
    save_copy,
    summary_text,
)
from desktop.components.convert_settings import (
    F0_METHODS,
    FIELDS,
    OUTPUT_RATES,
    ConvertSettings,
    field,
    rate_text,
)
from desktop.components.models_library import Model

MODEL = Model.from_dict({"id": "v", "name": "Voice ü", "path": "/m/Voice ü.pth",
                         "index": "/m/added_IVF1_Flat_nprobe_1_Voice ü_v2.index",
                         "version": "v2", "sample_rate": 40000, "f0": True})


# settings ------------------------------------------------------------------------------------
def _backend_accepts(**values) -> bool:
    try:
        backend_settings.ConvertSettings.from_args(values)
    except BadArgs:
        return False
    return True


def test_defaults_are_the_backends() -> None:
    desk, back = ConvertSettings(), backend_settings.ConvertSettings()
    for f in fields(desk):
        assert getattr(desk, f.name) == getattr(back, f.name), f.name
    assert set(F0_METHODS) == set(backend_settings.PITCH_METHODS)
    assert F0_METHODS[0] == back.f0_method


@pytest.mark.parametrize("f", FIELDS, ids=lambda f: f.name)
def test_every_range_is_the_backends(f) -> None:
    """The form allows exactly what the backend accepts: both ends in, a step beyond out."""
    assert _backend_accepts(**{f.name: type(getattr(ConvertSettings(), f.name))(f.minimum)})
    assert _backend_accepts(**{f.name: type(getattr(ConvertSettings(), f.name))(f.maximum)})
    below, above = f.minimum - f.step, f.maximum + f.step
    assert not _backend_accepts(**{f.name: below})
    assert not _backend_accepts(**{f.name: above})
    for value in (below, above):
        assert ConvertSettings(**{f.name: value}).validate()
    assert "RVC's default" in f.tooltip


def test_output_rates_and_methods_are_accepted() -> None:
    for rate in OUTPUT_RATES:
        assert _backend_accepts(output_rate=rate), rate
    for name in F0_METHODS:
        assert _backend_accepts(f0_method=name), name
    assert ConvertSettings(f0_method="yin").validate()
    assert rate_text(None, 40000) == "Model's rate (40 kHz)" and rate_text(44100) == "44.1 kHz"


def test_job_args_pass_the_backends_check() -> None:
    s = ConvertSettings(key=-5.0, f0_method="harvest", filter_radius=5, output_rate=44100)
    args = s.to_job_args()
    assert args["key"] == -5 and isinstance(args["key"], int)
    assert backend_settings.ConvertSettings.from_args(args).to_dict() == {
        **backend_settings.ConvertSettings().to_dict(), "key": -5, "f0_method": "harvest",
        "filter_radius": 5, "output_rate": 44100}
    assert ConvertSettings(key=0.5).to_job_args()["key"] == 0.5


def test_stored_settings_round_trip_and_bad_ones_fall_back() -> None:
    s = replace(ConvertSettings(), key=3.0, protect=0.5)
    assert ConvertSettings.from_stored(s.to_stored()) == s
    assert ConvertSettings.from_stored({"protect": 9}) == ConvertSettings()
    assert ConvertSettings.from_stored("nonsense") == ConvertSettings()
    assert ConvertSettings.from_stored({"key": 2, "unknown": 1}).key == 2
    assert field("protect").maximum == 0.5


# the queue and the results ------------------------------------------------------------------------
def test_audio_extensions_are_the_backends() -> None:
    assert AUDIO_EXTENSIONS == BACKEND_AUDIO


def test_queue_takes_audio_files_and_folders_once(tmp_path: Path) -> None:
    takes = tmp_path / "takes ü"
    takes.mkdir()
    wav, txt = takes / "take 1.WAV", takes / "notes.txt"
    wav.write_bytes(b"RIFF")
    txt.write_text("x")
    s = ConvertSession()
    problems = s.add([str(wav), str(takes), str(txt), str(tmp_path / "gone.wav"), str(wav)])
    assert s.inputs == [str(wav), str(takes)]
    assert problems[0].startswith("notes.txt is not an audio file (Convert takes .aac")
    assert problems[1] == f"{tmp_path / 'gone.wav'} does not exist"
    s.remove([0])
    assert s.inputs == [str(takes)]
    s.clear()
    assert s.inputs == []


def test_blocker_and_job_args(tmp_path: Path) -> None:
    s = ConvertSession()
    settings = ConvertSettings()
    assert "voice model" in s.blocker(None, settings)
    assert "Add the recordings" in s.blocker(MODEL, settings)
    s.inputs = [str(tmp_path / "a.wav")]
    assert s.blocker(MODEL, settings) == "Choose the output folder."
    s.out_folder = str(tmp_path / "out ü")
    assert s.blocker(MODEL, replace(settings, protect=0.7)).startswith("Check the settings")
    assert s.blocker(MODEL, settings) == ""
    assert s.job_args(MODEL, settings) == {
        "model": MODEL.path, "index": MODEL.index, "inputs": [str(tmp_path / "a.wav")],
        "out": str(tmp_path / "out ü"), **settings.to_job_args()}
    assert s.job_args(MODEL, settings, "cuda")["device"] == "cuda"
    preview = ConvertSession.preview_args(MODEL, settings)
    assert preview["preview"] is True and "inputs" not in preview and "out" not in preview
    assert "device" not in preview  # automatic: the backend chooses
    assert ConvertSession.preview_args(MODEL, settings, "cpu")["device"] == "cpu"


def test_results_from_events_and_the_final_result() -> None:
    s = ConvertSession()
    first = s.on_file({"input": "/t/a.wav", "output": "/o/a_V.wav", "seconds": 1.5,
                       "error": None})
    assert first.ok and s.selected == 0 and first.status_text() == "→ a_V.wav"
    bad = s.on_file({"input": "/t/b.wav", "output": None, "seconds": 0, "error": "unreadable"})
    assert not bad.ok and bad.status_text() == "failed: unreadable" and s.selected == 0
    s.on_finished({"outputs": [{"input": "/t/a.wav", "output": "/o/a_V.wav", "seconds": 1.5,
                                "error": None},
                               {"input": "/t/c.wav", "output": "/o/c_V.wav", "seconds": 2,
                                "error": None}]})
    assert [r.input for r in s.results] == ["/t/a.wav", "/t/b.wav", "/t/c.wav"]
    s.on_file({"input": "/p/phrase.wav", "output": "/tmp/p.wav", "seconds": 2.0}, preview=True)
    assert s.current() is not None and s.current().name == "Preview: phrase.wav"
    s.started()  # a new batch keeps the preview only
    assert [r.preview for r in s.results] == [True] and s.selected == 0
    assert FileResult.from_event({"input": "x", "seconds": "?"}).seconds == 0.0


def test_progress_and_summary_texts() -> None:
    assert progress_text("converting take 1.wav", 12, 40, "30 s") == \
        "converting take 1.wav — 12.0 of 40.0 s of audio, 30 s left"
    assert progress_text("", 0, 0) == "starting"
    outputs = [{"input": "a", "output": "b", "error": None}, {"input": "c", "output": None,
                                                              "error": "x"}]
    assert summary_text({"outputs": outputs, "converted": 1, "failed": 1, "out": "/o"}) == \
        "Converted 1 of 2 file(s) into /o. 1 failed: see the list for why."
    assert fmt_seconds(83.25) == "1:23.2" and fmt_seconds(None) == ""


# A/B playback ----------------------------------------------------------------------------------
def test_ab_switches_sides_at_the_same_position() -> None:
    ab = ABPlayback()
    assert ab.play(RESULT) is None  # nothing selected
    ab.set_result(FileResult("/t/a.wav", "/o/a_V.wav", 1.5, None))
    ab.durations = {"/t/a.wav": 1.5, "/o/a_V.wav": 1.49}
    assert ab.play(RESULT) == {"path": "/o/a_V.wav", "start": 0.0, "end": None}
    assert not ab.on_position({"t": 0.9, "playing": True, "play_id": 7})  # the old playback
    ab.started({"play_id": 8})
    assert not ab.on_position({"t": 0.9, "playing": True, "play_id": 7})
    assert ab.on_position({"t": 0.6, "playing": True, "play_id": 8}) and ab.position == 0.6
    assert ab.toggle() == {"path": "/t/a.wav", "start": 0.6, "end": None}
    assert ab.side == ORIGINAL and ab.waiting
    ab.started({"play_id": 9})
    ab.on_position({"t": 1.47, "playing": True, "play_id": 9})
    assert ab.toggle() == {"path": "/o/a_V.wav", "start": 0.0, "end": None}  # past its end
    ab.started({"play_id": 10})
    assert ab.on_position({"t": 1.49, "playing": False, "play_id": 10}, finished=True)
    assert not ab.playing and ab.position == 0.0  # played to the end: starts over
    ab.set_result(FileResult("/t/b.wav", None, 0, "failed"))
    assert ab.play(RESULT) is None and ab.play(ORIGINAL)["path"] == "/t/b.wav"


# save as -------------------------------------------------------------------------------------
def test_save_copy_writes_whole_files_only(tmp_path: Path) -> None:
    src = tmp_path / "out ü" / "take 1_Voice ü.wav"
    src.parent.mkdir()
    src.write_bytes(b"RIFF" + os.urandom(5000))
    dst = tmp_path / "saved é" / "mine.wav"
    dst.parent.mkdir()
    dst.write_bytes(b"old")
    assert save_copy(str(src), str(dst)) == dst
    assert dst.read_bytes() == src.read_bytes()
    with pytest.raises(OSError, match="converted file itself"):
        save_copy(str(src), str(src))
    with pytest.raises(OSError):
        save_copy(str(tmp_path / "gone.wav"), str(dst))
    assert dst.read_bytes() == src.read_bytes()  # a failed copy left the old file
    assert sorted(p.name for p in dst.parent.iterdir()) == ["mine.wav"]  # no temp files
