"""audio.analyze: envelope and spectrogram of real generated files."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

from backend.audio import analysis
from backend.commands import COMMANDS, CommandError, load_all

SR = 22050


@pytest.fixture(scope="module", autouse=True)
def _commands():
    assert load_all() == []


def _server():
    return SimpleNamespace(state={}, emit=lambda event, data: None)


def _analyze(path: Path, cache: Path) -> dict:
    return COMMANDS["audio.analyze"]({"path": str(path), "cache_dir": str(cache)}, _server())


def _tone_file(folder: Path, name: str = "tone – ä 声.wav") -> tuple[Path, np.ndarray]:
    """2 s stereo: 1 kHz tone (left) from 0.5 to 1.5 s, a negative spike (right)."""
    t = np.arange(2 * SR) / SR
    left = np.where((t >= 0.5) & (t < 1.5), 0.6 * np.sin(2 * np.pi * 1000.0 * t), 0.0)
    right = 0.01 * np.sin(2 * np.pi * 50.0 * t)
    right[int(1.8 * SR)] = -0.8
    data = np.stack([left, right], axis=1).astype(np.float32)
    path = folder / name
    sf.write(str(path), data, SR, subtype="FLOAT")
    return path, data


def test_analyze_envelope_and_spectrogram(unicode_dir):
    path, stereo = _tone_file(unicode_dir)
    data = stereo.mean(axis=1)  # the editor shows the mono mix, as prepare uses it
    cache = unicode_dir / "cache ü"
    res = _analyze(path, cache)
    assert res["duration"] == pytest.approx(2.0)
    assert res["sample_rate"] == SR and res["channels"] == 2
    assert res["cached"] is False
    assert Path(res["data"]).parent == cache and Path(res["data"]).is_file()
    with np.load(res["data"]) as npz:
        hops = list(npz["env_hops"])
        assert hops[0] == analysis.MIN_ENV_HOP
        assert all(b == 4 * a for a, b in zip(hops, hops[1:], strict=False))
        for i, hop in enumerate(hops):
            lo, hi = npz[f"env_min_{i}"], npz[f"env_max_{i}"]
            assert len(lo) == len(hi) == -(-len(data) // hop)
            assert lo.min() == pytest.approx(data.min(), abs=1e-6) == pytest.approx(-0.4)
            assert hi.max() == pytest.approx(data.max(), abs=1e-6)
            assert np.all(lo <= hi)
        # bin by bin on the finest level
        hop = hops[0]
        k = int(1.0 * SR) // hop
        chunk = data[k * hop:(k + 1) * hop]
        assert npz["env_max_0"][k] == pytest.approx(chunk.max())
        assert npz["env_min_0"][k] == pytest.approx(chunk.min())
        spec = npz["spec"].astype(float)
        hop_s, fmax = float(npz["spec_hop"]), float(npz["spec_fmax"])
        assert npz["spec"].dtype == np.uint8 and spec.shape[1] == analysis.N_FFT // 2 + 1
        assert len(spec) * hop_s == pytest.approx(2.0, abs=0.05)
        tone = spec[int(0.7 / hop_s):int(1.3 / hop_s)].mean(axis=0)
        peak_hz = np.argmax(tone) * fmax / (spec.shape[1] - 1)
        assert peak_hz == pytest.approx(1000.0, abs=fmax / 256 + 1)
        quiet = spec[int(0.1 / hop_s):int(0.4 / hop_s)]
        assert quiet[:, np.argmax(tone)].mean() < tone.max() - 60


def test_cache_reused_and_invalidated(tmp_path):
    path, _ = _tone_file(tmp_path, "a b.wav")
    cache = tmp_path / "cache"
    first = _analyze(path, cache)
    stamp = os.stat(first["data"]).st_mtime_ns
    second = _analyze(path, cache)
    assert second["cached"] is True and second["data"] == first["data"]
    assert os.stat(first["data"]).st_mtime_ns == stamp
    sf.write(str(path), np.zeros((SR, 1), np.float32), SR)  # the file changes
    third = _analyze(path, cache)
    assert third["cached"] is False and third["data"] != first["data"]
    assert third["channels"] == 1 and third["duration"] == pytest.approx(1.0)
    assert not [p for p in cache.iterdir() if p.suffix == ".tmp"]


def test_broken_cache_entry_is_rebuilt(tmp_path):
    path, _ = _tone_file(tmp_path)
    npz = analysis.cache_file(path, tmp_path)
    npz.write_bytes(b"half written")
    res = _analyze(path, tmp_path)
    assert res["cached"] is False
    with np.load(res["data"]) as data:
        assert int(data["frames"]) == 2 * SR


def test_long_file_stays_bounded(tmp_path):
    sr = 8000
    n = sr * 60 * 4  # 4 minutes
    t = np.arange(n) / sr
    path = tmp_path / "long.wav"
    sf.write(str(path), (0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32), sr,
             subtype="PCM_16")
    res = _analyze(path, tmp_path / "c")
    assert res["duration"] == pytest.approx(240.0)
    with np.load(res["data"]) as npz:
        assert len(npz["spec"]) <= analysis.MAX_SPEC_FRAMES
        assert len(npz["spec"]) * float(npz["spec_hop"]) == pytest.approx(240.0, rel=0.01)
        coarsest = len(npz["env_hops"]) - 1
        assert len(npz[f"env_min_{coarsest}"]) <= analysis.COARSEST_BINS


def test_envelope_hop_grows_for_huge_files():
    assert analysis._env_hop(48000 * 60) == analysis.MIN_ENV_HOP
    hop = analysis._env_hop(48000 * 3600 * 3)
    assert 48000 * 3600 * 3 / hop <= analysis.MAX_ENV_BINS


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")
def test_m4a_through_ffmpeg(unicode_dir):
    wav = unicode_dir / "mono.wav"
    t = np.arange(2 * SR) / SR
    sf.write(str(wav), (0.6 * np.sin(2 * np.pi * 1000.0 * t)).astype(np.float32), SR)
    m4a = unicode_dir / "tone ü.m4a"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-c:a", "aac", str(m4a)],
                   check=True)
    res = _analyze(m4a, unicode_dir / "cache")
    assert res["channels"] == 1 and res["sample_rate"] == SR
    assert res["duration"] == pytest.approx(2.0, abs=0.1)
    with np.load(res["data"]) as npz:
        assert npz["env_max_0"].max() == pytest.approx(0.6, abs=0.05)
        assert npz["env_min_0"].min() == pytest.approx(-0.6, abs=0.05)


def test_bad_file_names_the_file(unicode_dir):
    bad = unicode_dir / "not audio ü.wav"
    bad.write_text("this is not a wav file")
    with pytest.raises(CommandError) as err:
        _analyze(bad, unicode_dir / "cache")
    assert str(bad) in err.value.message
    assert err.value.code == "bad_arguments"


def test_missing_file_and_bad_args(tmp_path):
    with pytest.raises(CommandError) as err:
        _analyze(tmp_path / "nope.wav", tmp_path)
    assert "nope.wav" in err.value.message and err.value.code == "not_found"
    with pytest.raises(CommandError, match="'cache_dir'"):
        COMMANDS["audio.analyze"]({"path": "x.wav"}, _server())
