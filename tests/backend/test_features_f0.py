"""features.f0: pitch statistics (pure numpy) and the command, in-process and in a real server."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

from backend.commands import COMMANDS, CommandError, load_all
from backend.dataset.project import open_project
from backend.features import store
from backend.features.f0_stats import f0_stats, octave_jump_frames, step_cents
from backend.protocol import E_BAD_ARGS, E_NOT_FOUND
from tests.backend.backend_proc import BackendProcess
from tests.train.feature_project import make_feature_project


@pytest.fixture(scope="module", autouse=True)
def _commands():
    assert load_all() == []


def _call(args: dict) -> dict:
    return COMMANDS["features.f0"](args, SimpleNamespace(state={}, emit=lambda e, d: None))


def _cents(hz: float, cents: float) -> float:
    return hz * 2.0 ** (cents / 1200.0)


# f0_stats -------------------------------------------------------------------------------
def test_octave_errors_are_counted_both_ways():
    f0 = np.full(100, 200.0, np.float32)
    f0[40:50] = 400.0  # the tracker locks onto the second harmonic for 100 ms
    f0[70:75] = 100.0  # ...and onto a subharmonic
    stats = f0_stats(f0)
    assert stats.octave_jumps == 4
    assert list(octave_jump_frames(f0)) == [40, 50, 70, 75]
    assert stats.voiced_ratio == 1.0 and stats.median_hz == pytest.approx(200.0)
    assert stats.frames == 100


def test_jump_window_is_1000_to_1400_cents_between_voiced_neighbours():
    base = 150.0
    steps = [999.0, 1001.0, 1200.0, 1399.0, 1401.0, -1001.0, 700.0]
    f0 = []
    for c in steps:
        f0 += [base, _cents(base, c), 0.0]  # each pair is followed by an unvoiced frame
    stats = f0_stats(np.array(f0))
    assert stats.octave_jumps == 4  # 1001, 1200, 1399 and -1001
    cents = step_cents(np.array(f0))
    assert cents[0] == pytest.approx(999.0) and np.isnan(cents[2])


def test_no_jump_across_unvoiced_gap_and_voicing_stats():
    f0 = np.array([0, 0, 110, 112, 0, 0, 230, 228, 0, 0], np.float32)  # 110 -> 230 over a gap
    stats = f0_stats(f0)
    assert stats.octave_jumps == 0
    assert stats.voiced_ratio == pytest.approx(0.4)
    assert stats.median_hz == pytest.approx(np.median([110, 112, 230, 228]))


def test_silent_and_empty_tracks():
    assert f0_stats(np.zeros(50)).to_dict() == {"frames": 50, "voiced_ratio": 0.0,
                                                 "median_hz": None, "octave_jumps": 0}
    assert f0_stats(np.zeros(0)).frames == 0


@pytest.mark.parametrize("bad, words", [(np.zeros((3, 2)), "shape"),
                                        (np.array([100.0, np.nan]), "NaN"),
                                        (np.array([100.0, -5.0]), "negative")])
def test_bad_tracks_are_refused(bad, words):
    with pytest.raises(ValueError, match=words):
        f0_stats(bad)


# the command ----------------------------------------------------------------------------
@pytest.fixture
def project(unicode_dir: Path) -> Path:
    return make_feature_project(unicode_dir / "projet é 1", clips=3, seconds=0.6)


def test_command_reports_path_method_and_stats(project: Path):
    res = _call({"project": str(project), "slice": "clip01"})
    assert Path(res["path"]).is_absolute()
    assert Path(res["path"]) == (project / "features" / "f0" / "clip01.npy").resolve()
    assert res["hop_seconds"] == 0.01 and res["method"] == "pm"
    assert res["median_hz"] == pytest.approx(160.0) and res["voiced_ratio"] == 1.0
    assert res["octave_jumps"] == 0 and res["reason"] is None
    assert res["frames"] == len(np.load(res["path"]))
    assert _call({"project": str(project), "slice": "clip01.wav"})["path"] == res["path"]


def test_command_counts_octave_errors_in_the_file(project: Path):
    path = store.feature_paths(project, "clip00", "v2")["f0"]
    f0 = np.load(path)
    f0[10:20] *= 2.0
    f0[30:33] = 0.0
    store.save_npy(path, f0)
    res = _call({"project": str(project), "slice": "clip00"})
    assert res["octave_jumps"] == 2
    assert res["voiced_ratio"] == pytest.approx(1 - 3 / len(f0), abs=1e-4)


def _prepared_manifest(project: Path, stems: list[str]) -> None:
    """A prepare manifest listing clips (16 kHz wavs of 0.5 s) under one source."""
    p = open_project(project)
    folder = project / "prepared" / "1_16k_wavs"
    folder.mkdir(parents=True, exist_ok=True)
    slices = []
    for stem in stems:
        sf.write(folder / f"{stem}.wav", np.zeros(8000, np.float32), 16000)
        slices.append({"name": f"{stem}.wav", "path": f"prepared/0_gt_wavs/{stem}.wav",
                       "path_16k": f"prepared/1_16k_wavs/{stem}.wav", "start": 0.0,
                       "end": 0.5, "duration": 0.5})
    manifest = p.load_manifest()
    manifest["sources"] = {"src1": {"path": "x.wav", "slices": slices}}
    p.save_manifest(manifest)


def test_prepared_clip_without_features_says_run_extract(project: Path):
    _prepared_manifest(project, ["new clip ü"])
    res = _call({"project": str(project), "slice": "new clip ü"})
    assert res["path"] is None and "run Extract first" in res["reason"]
    assert res["method"] == "pm" and res["hop_seconds"] == 0.01


def test_clip_prepared_again_after_extract_is_out_of_date(project: Path):
    _prepared_manifest(project, ["clip02"])  # 0.5 s now; its f0 has frames for 0.9 s
    res = _call({"project": str(project), "slice": "clip02"})
    assert res["path"] is None and "out of date" in res["reason"]


def test_missing_f0_file(project: Path):
    store.feature_paths(project, "clip01", "v2")["f0"].unlink()
    res = _call({"project": str(project), "slice": "clip01"})
    assert res["path"] is None and "Extract again" in res["reason"]


def test_damaged_f0_file_is_named(project: Path):
    path = store.feature_paths(project, "clip01", "v2")["f0"]
    path.write_bytes(b"not a numpy file")
    with pytest.raises(CommandError, match="clip01.npy") as info:
        _call({"project": str(project), "slice": "clip01"})
    assert info.value.code == E_BAD_ARGS


def test_unknown_project_slice_and_bad_args(project: Path, tmp_path: Path):
    with pytest.raises(CommandError) as info:
        _call({"project": str(tmp_path / "nope"), "slice": "clip01"})
    assert info.value.code == E_NOT_FOUND
    with pytest.raises(CommandError, match="no prepared clip named 'clip99'") as info:
        _call({"project": str(project), "slice": "clip99"})
    assert info.value.code == E_NOT_FOUND
    for args in ({"slice": "clip01"}, {"project": str(project)},
                 {"project": str(project), "slice": "../clip01"}):
        with pytest.raises(CommandError) as info:
            _call(args)
        assert info.value.code == E_BAD_ARGS


def test_real_server_answers_features_f0(project: Path):
    proc = BackendProcess()
    try:
        proc.event("backend.ready")
        rid = proc.send("features.f0", project=str(project), slice="clip02")
        reply = proc.reply(rid)
        assert reply["type"] == "result", reply
        res = reply["result"]
        assert res["median_hz"] == pytest.approx(200.0) and res["method"] == "pm"
        assert np.load(res["path"]).shape == (res["frames"],)
        rid = proc.send("features.f0", project=str(project), slice="nothing")
        err = proc.reply(rid)
        assert err["type"] == "error" and err["error"]["code"] == E_NOT_FOUND
        assert "nothing" in err["error"]["message"]
    finally:
        proc.close()
