"""Probing and streaming decode, including every kind of bad file."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from backend.dataset import _ffmpeg, audio_io
from backend.dataset.audio_io import AudioLoadError, DecodeStats, iter_blocks, load, probe
from tests.dataset.conftest import noise, tone, write


def test_probe_wav(tmp_path):
    p = write(tmp_path / "a.wav", tone(440, 1.5, 44100), 44100, "PCM_16")
    info = probe(p)
    assert (info.sample_rate, info.channels, info.frames) == (44100, 1, 66150)
    assert info.duration == pytest.approx(1.5)
    assert info.format == "WAV" and info.path == p


def test_iter_blocks_is_mono_native_rate_and_bounded(tmp_path):
    stereo = np.stack([tone(440, 2.0, 32000, 0.4), tone(440, 2.0, 32000, 0.2)], axis=1)
    p = write(tmp_path / "st.flac", stereo, 32000, "PCM_24")
    blocks = list(iter_blocks(p, 5000))
    assert all(b.ndim == 1 and b.dtype == np.float32 and len(b) <= 5000 for b in blocks)
    x = np.concatenate(blocks)
    assert len(x) == 64000
    assert np.allclose(x, stereo.mean(axis=1), atol=1e-4)


def test_iter_blocks_resamples_and_limits_region(tmp_path):
    p = write(tmp_path / "a.wav", tone(300, 4.0, 44100), 44100)
    x = np.concatenate(list(iter_blocks(p, 4096, sr=16000, start=1.0, stop=2.5)))
    assert len(x) == pytest.approx(1.5 * 16000, abs=2)
    ref = tone(300, 4.0, 16000)[16000:40000]
    assert np.allclose(x[100:-100], ref[100:-100], atol=2e-3)  # phase kept: start is exact


def test_load_mono_and_multichannel(tmp_path):
    eight = np.stack([tone(100 * (i + 1), 0.5, 48000, 0.1) for i in range(8)], axis=1)
    p = write(tmp_path / "8ch.wav", eight, 48000)
    assert probe(p).channels == 8
    mono, sr = load(p)
    assert sr == 48000 and mono.shape == (24000,)
    assert np.allclose(mono, eight.mean(axis=1), atol=1e-6)
    multi, _ = load(p, mono=False)
    assert multi.shape == (24000, 8)
    low, sr16 = load(p, sr=16000)
    assert sr16 == 16000 and len(low) == 8000


def test_384k_file_loads_and_resamples(tmp_path):
    p = write(tmp_path / "hi.wav", tone(1000, 1.0, 384000), 384000, "PCM_24")
    assert probe(p).sample_rate == 384000
    x, sr = load(p, sr=40000)
    assert sr == 40000 and len(x) == 40000
    assert np.max(np.abs(x)) == pytest.approx(0.5, abs=0.01)


def test_nan_samples_error_by_default_and_zero_on_request(tmp_path):
    x = tone(440, 1.0, 16000)
    x[8000:8010] = np.nan
    x[9000] = np.inf
    p = write(tmp_path / "nan.wav", x, 16000)
    with pytest.raises(AudioLoadError, match=r"'nan.wav'.*NaN or infinity.*0\.50 s"):
        load(p)
    stats = DecodeStats()
    y = np.concatenate(list(iter_blocks(p, 1000, nonfinite="zero", stats=stats)))
    assert stats.nonfinite == 11
    assert np.isfinite(y).all() and y[8005] == 0.0


def test_clipping_is_counted_in_runs(tmp_path):
    x = tone(100, 1.0, 16000, 0.5)
    x[1000:1050] = 1.0  # a flattened run
    x[5000] = 1.0  # a lone full-scale peak is not clipping
    stats = DecodeStats(clip_bins={})
    list(iter_blocks(write(tmp_path / "c.wav", x, 16000), 4096, stats=stats))
    assert stats.clipped == 50
    assert sum(stats.clip_bins.values()) == 50 and set(stats.clip_bins) == {6}


def test_empty_file(tmp_path):
    (tmp_path / "e.wav").write_bytes(b"")
    with pytest.raises(AudioLoadError, match=r"'e.wav' is empty \(0 bytes\)") as err:
        probe(tmp_path / "e.wav")
    assert err.value.path == tmp_path / "e.wav"
    assert "re-export" in str(err.value)


def test_text_renamed_wav(tmp_path):
    (tmp_path / "notes.wav").write_text("these are my lyrics, not a recording\n" * 20)
    with pytest.raises(AudioLoadError, match=r"'notes.wav' is not audio \(it contains text\)"):
        probe(tmp_path / "notes.wav")


def test_random_bytes_are_not_audio(tmp_path):
    (tmp_path / "junk.flac").write_bytes(np.random.default_rng(1).bytes(4000))
    with pytest.raises(AudioLoadError, match=r"'junk.flac' is not a readable audio file"):
        probe(tmp_path / "junk.flac")


def test_truncated_wav(tmp_path):
    p = write(tmp_path / "cut.wav", noise(3.0, 16000), 16000, "PCM_16")
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioLoadError, match=r"'cut.wav' is truncated.*3\.00 s.*1\.50 s"):
        probe(p)


def test_wav_cut_inside_its_header(tmp_path):
    p = write(tmp_path / "hdr.wav", noise(1.0, 16000), 16000, "PCM_16")
    p.write_bytes(p.read_bytes()[:30])
    with pytest.raises(AudioLoadError, match="'hdr.wav'.*corrupt, truncated"):
        probe(p)


def test_directory_and_missing_file(tmp_path):
    (tmp_path / "take1.wav").mkdir()
    with pytest.raises(AudioLoadError, match="'take1.wav' is a folder"):
        probe(tmp_path / "take1.wav")
    with pytest.raises(AudioLoadError, match="'gone.wav' does not exist"):
        probe(tmp_path / "gone.wav")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root can read any file, so chmod 000 cannot deny access")
def test_permission_denied(tmp_path):
    p = write(tmp_path / "locked.wav", tone(440, 0.2, 16000), 16000)
    p.chmod(0)
    try:
        with pytest.raises(AudioLoadError, match="'locked.wav' cannot be read .permission"):
            probe(p)
    finally:
        p.chmod(0o644)


def test_unreadable_file_reports_permission(tmp_path, monkeypatch):
    """Works as root too: the OS refusal is simulated at os.access."""
    p = write(tmp_path / "locked.wav", tone(440, 0.2, 16000), 16000)
    monkeypatch.setattr(audio_io.os, "access", lambda path, mode: False)
    with pytest.raises(AudioLoadError, match="'locked.wav' cannot be read .permission denied"):
        probe(p)


def _m4a(path: Path, seconds: float = 1.5) -> Path:
    exe = _ffmpeg.find_ffmpeg()
    if exe is None:
        pytest.skip("ffmpeg is not available")
    subprocess.run([exe, "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=frequency=440:duration={seconds}:sample_rate=44100",
                    "-ac", "2", "-c:a", "aac", str(path)], check=True)
    return path


def test_m4a_goes_through_ffmpeg(unicode_dir):
    p = _m4a(unicode_dir / "mein Klang – 1.m4a")
    info = probe(p)
    assert info.decoder == "ffmpeg" and info.sample_rate == 44100 and info.channels == 2
    assert info.duration == pytest.approx(1.5, abs=0.05)
    x = np.concatenate(list(iter_blocks(p, 10000, sr=16000)))
    assert abs(len(x) - 24000) < 800
    assert 0.05 < np.max(np.abs(x)) < 1.0
    part = np.concatenate(list(iter_blocks(p, 10000, start=0.5, stop=1.0)))
    assert abs(len(part) - 22050) < 100


def test_bundled_ffmpeg_is_used_when_path_has_none(tmp_path, monkeypatch):
    pytest.importorskip("imageio_ffmpeg")
    p = _m4a(tmp_path / "a.m4a", 0.5)
    monkeypatch.setattr(_ffmpeg.shutil, "which", lambda name: None)
    exe = _ffmpeg.find_ffmpeg()
    assert exe is not None and Path(exe).exists()
    assert probe(p).decoder == "ffmpeg"


def test_no_ffmpeg_at_all_says_how_to_get_it(tmp_path, monkeypatch):
    p = tmp_path / "voice.m4a"
    p.write_bytes(b"\0\0\0\x20ftypM4A " + b"\0" * 100)
    monkeypatch.setattr(_ffmpeg, "find_ffmpeg", lambda: None)
    with pytest.raises(AudioLoadError, match=r"'voice.m4a'.*needs ffmpeg.*install ffmpeg"):
        probe(p)


def test_corrupt_m4a_is_reported(tmp_path):
    if shutil.which("ffmpeg") is None:
        pytest.importorskip("imageio_ffmpeg")
    p = tmp_path / "broken.m4a"
    p.write_bytes(b"\0\0\0\x20ftypM4A " + b"\x13" * 500)
    with pytest.raises(AudioLoadError, match="'broken.m4a' has no audio ffmpeg can decode"):
        probe(p)


def test_unicode_path_with_spaces(unicode_dir):
    p = write(unicode_dir / "Aufnahme 1 – ü 声.flac", tone(440, 0.5, 22050), 22050, "PCM_16")
    x, sr = load(p)
    assert sr == 22050 and len(x) == 11025
    assert sf.info(str(p)).frames == 11025
