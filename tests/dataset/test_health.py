"""Per-clip health checks, the training recommendation and the dataset report."""

from __future__ import annotations

import numpy as np
import pytest

from backend.dataset.health import analyze_clip, build_report, estimate_snr_db, recommend
from tests.dataset.conftest import noise, tone

SR = 40000


def _speechlike(seconds: float = 3.0, sr: int = SR) -> np.ndarray:
    """Bursts of tone separated by digital silence: clean, well-levelled 'speech'."""
    x = tone(180, seconds, sr, 0.5)
    t = np.arange(len(x)) / sr
    return (x * ((t % 0.5) < 0.35)).astype(np.float32)


def _kinds(problems: list[dict]) -> dict[str, str]:
    return {p["kind"]: p["severity"] for p in problems}


def test_clean_clip_has_no_problems():
    assert analyze_clip(_speechlike(), SR, original_sr=48000) == []


def test_every_problem_has_kind_severity_and_message():
    x = np.full(SR // 5, 0.5, np.float32)  # short, DC, flattened at 0.5 (not clipped)
    problems = analyze_clip(x, SR, original_sr=16000)
    assert problems
    for p in problems:
        assert p["severity"] in ("warning", "error")
        assert isinstance(p["message"], str) and len(p["message"]) > 20


def test_clipping():
    x = _speechlike()
    x[1000:1100] = 1.0
    assert _kinds(analyze_clip(x, SR, original_sr=SR))["clipping"] == "warning"
    x = np.clip(_speechlike() * 4, -1, 1)
    assert _kinds(analyze_clip(x, SR, original_sr=SR))["clipping"] == "error"
    # the pipeline passes counts measured before filtering
    problems = analyze_clip(_speechlike(), SR, original_sr=44100, clipped_samples=5000)
    assert _kinds(problems)["clipping"] == "error"


def test_near_silence():
    assert _kinds(analyze_clip(noise(2.0, SR, 1e-4), SR, original_sr=SR)) == {
        "near_silence": "error"}
    quiet = _kinds(analyze_clip(_speechlike() * 0.02, SR, original_sr=SR))
    assert quiet["near_silence"] == "warning"


@pytest.mark.parametrize(("seconds", "kind", "severity"), [
    (0.3, "too_short", "error"), (0.8, "too_short", "warning"), (20.0, "too_long", "warning")])
def test_length(seconds, kind, severity):
    assert _kinds(analyze_clip(_speechlike(seconds), SR, original_sr=SR))[kind] == severity


def test_dc_offset():
    x = _speechlike() + 0.1
    assert _kinds(analyze_clip(x, SR, original_sr=SR))["dc_offset"] == "warning"


def test_low_snr():
    x = _speechlike() + noise(3.0, SR, 0.1)
    p = [p for p in analyze_clip(x, SR, original_sr=SR) if p["kind"] == "low_snr"]
    assert p and p[0]["severity"] == "warning" and p[0]["snr_db"] < 15
    assert estimate_snr_db(_speechlike() + noise(3.0, SR, 0.001), SR) > 30


def test_low_original_sample_rate():
    problems = analyze_clip(_speechlike(), SR, original_sr=22050)
    (p,) = [p for p in problems if p["kind"] == "low_sample_rate"]
    assert "22.05 kHz" in p["message"] and "11.025 kHz" in p["message"]
    assert "low_sample_rate" not in _kinds(analyze_clip(_speechlike(), SR, original_sr=32000))


def test_recommend_rules():
    tiny = recommend(5 * 60, 40000)
    assert tiny["mode"] == "fine-tune" and not tiny["enough_data"]
    assert "10 minutes" in tiny["text"] and tiny["epochs"] == 300
    ten = recommend(10 * 60, 40000)
    assert ten["epochs"] == 300 and ten["learning_rate"] == 1e-4
    half = recommend(30 * 60, 40000)
    hour, two = recommend(60 * 60, 40000), recommend(2 * 3600, 40000)
    assert 300 > half["epochs"] > hour["epochs"] == 100 > two["epochs"] >= 60
    assert two["mode"] == "fine-tune"
    big = recommend(4 * 3600, 48000)
    assert big["mode"] == "from scratch" and big["base_g"] is None
    assert "from scratch" in big["text"]
    # the report also says how much labelled audio text-to-speech needs
    assert "at least 5 minutes of labelled clips" in tiny["text"]
    assert "Text-to-speech" in big["text"]


@pytest.mark.parametrize(("sr", "version", "g", "d", "folder"), [
    (40000, "v2", "f0G40k.pth", "f0D40k.pth", "pretrained_v2"),
    (48000, "v1", "f0G48k.pth", "f0D48k.pth", "pretrained"),
    (32000, "v2", "f0G32k.pth", "f0D32k.pth", "pretrained_v2")])
def test_recommend_base_files(sr, version, g, d, folder):
    rec = recommend(40 * 60, sr, version)
    assert (rec["base_g"], rec["base_d"], rec["base_dir"], rec["version"]) == (g, d, folder,
                                                                               version)
    assert g in rec["text"] and str(rec["epochs"]) in rec["text"]


def test_recommend_odd_rate_and_bad_version():
    rec = recommend(20 * 60, 44100)
    assert rec["base_g"] == "f0G40k.pth" and any("44100" in w for w in rec["warnings"])
    with pytest.raises(ValueError, match="version"):
        recommend(60, 40000, "v3")


def test_build_report():
    warn = {"kind": "low_snr", "severity": "warning", "message": "noisy"}
    err = {"kind": "near_silence", "severity": "error", "message": "silent"}
    slices = [
        {"name": "a_0000.wav", "path": "/x/a_0000.wav", "duration": 3.7, "problems": [],
         "source": "a.wav"},
        {"name": "a_0001.wav", "path": "/x/a_0001.wav", "duration": 3.0, "problems": [warn],
         "source": "a.wav"},
        {"name": "b_0000.wav", "path": "/x/b_0000.wav", "duration": 2.0,
         "problems": [warn, err], "source": "b.wav", "start": 4.5, "end": 6.5},
    ]
    failed = [{"path": "c.wav", "message": "'c.wav' is empty (0 bytes)"}]
    rep = build_report(slices, failed, 40000)
    assert rep["total_seconds"] == pytest.approx(8.7)
    assert rep["usable_seconds"] == pytest.approx(6.7)
    assert (rep["clips"], rep["usable_clips"]) == (3, 2)
    assert rep["problem_counts"] == {"low_snr": 2, "near_silence": 1}
    assert {p["clip"] for p in rep["problems"]} == {"a_0001.wav", "b_0000.wav"}
    # where in the recording each problem clip is, so the desktop can name it
    assert [(p["source"], p["start"], p["end"]) for p in rep["problems"]][-1] == \
        ("b.wav", 4.5, 6.5)
    assert rep["sources_failed"] == failed
    assert rep["recommendation"] == recommend(6.7, 40000)
    assert rep["recommendation"]["version"] == "v2"
