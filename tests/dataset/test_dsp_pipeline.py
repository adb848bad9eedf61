"""process_source end to end: outputs, rates, chunking, segments, odd inputs."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import soxr

from backend.dataset import dsp
from backend.dataset.audio_io import AudioLoadError
from backend.dataset.pipeline import PrepareSettings, process_source
from tests.dataset.conftest import noise, tone, write


def _speechy(seconds: float, sr: int, seed: int = 0) -> np.ndarray:
    """A 150 Hz buzz with a 3 Hz syllable envelope: loud, pause-free voiced sound."""
    t = np.arange(int(seconds * sr)) / sr
    env = 0.55 + 0.45 * np.sin(2 * np.pi * 3 * t)
    return (env * (tone(150, seconds, sr, 0.3) + noise(seconds, sr, 0.02, seed))).astype(
        np.float32)


def _run(src, tmp, sr=40000, **kw):
    segments = kw.pop("segments", None)
    settings = PrepareSettings(**kw)
    return process_source(src, settings, sr, tmp / "0_gt_wavs", tmp / "1_16k_wavs", "src",
                          segments=segments)


def test_outputs_have_rates_durations_names_and_exact_chunks(tmp_path):
    sr_in = 44100
    x = np.concatenate([_speechy(12.0, sr_in), np.zeros(sr_in, np.float32)])
    res = _run(write(tmp_path / "src.wav", x, sr_in), tmp_path)
    assert res.info.sample_rate == sr_in
    starts = [s.start for s in res.slices]
    assert starts == pytest.approx([0.0, 3.4, 6.8, 10.2], abs=1e-6)
    for s in res.slices:
        assert s.path_gt.name == s.path_16k.name == f"src_{s.index:04d}.wav"
        gt, g_sr = sf.read(str(s.path_gt))
        low, l_sr = sf.read(str(s.path_16k))
        assert (g_sr, l_sr) == (40000, 16000)
        assert len(gt) == round(s.duration * 40000)
        assert len(low) == round(s.duration * 16000)
        assert s.peak == pytest.approx(np.max(np.abs(gt)), rel=1e-6)
    assert [s.duration for s in res.slices[:-1]] == pytest.approx([3.7] * 3)
    # the last chunk ends where the kept trailing silence ends: 12 s + 0.5 s
    assert res.slices[-1].end == pytest.approx(12.5, abs=0.02)
    # overlap is exact: the shared 0.3 s are sample-identical in consecutive chunks
    a, _ = sf.read(str(res.slices[0].path_gt), dtype="float32")
    b, _ = sf.read(str(res.slices[1].path_gt), dtype="float32")
    assert np.array_equal(a[-12000:], b[:12000])
    assert not list((tmp_path / "0_gt_wavs").glob(".*part"))


def test_peak_normalisation_applies_per_slice(tmp_path):
    sr = 32000
    x = np.concatenate([_speechy(3.0, sr) * 0.2, np.zeros(sr, np.float32), _speechy(3.0, sr)])
    res = _run(write(tmp_path / "two.wav", x, sr), tmp_path, sr=32000)
    assert len(res.slices) == 2
    src_peaks = [np.max(np.abs(x[: 3 * sr])), np.max(np.abs(x[4 * sr:]))]
    for s, p in zip(res.slices, src_peaks, strict=True):
        # RVC mix; the high-pass changes the peak of this buzz only slightly
        assert s.peak == pytest.approx(0.9 * 0.75 + 0.25 * p, rel=0.03)


def test_lufs_mode_hits_target(tmp_path):
    sr = 40000
    res = _run(write(tmp_path / "l.wav", _speechy(3.5, sr) * 0.1, sr), tmp_path,
               normalize="lufs", lufs_target=-23.0)
    (s,) = res.slices
    y, _ = sf.read(str(s.path_gt), dtype="float32")
    assert dsp.integrated_loudness(y, 40000) == pytest.approx(-23.0, abs=0.1)


def test_segments_restrict_processing_and_are_never_crossed(tmp_path):
    sr = 22050
    x = _speechy(20.0, sr)
    segments = [(1.0, 5.0), (5.0, 8.2), (12.5, 19.0)]
    res = _run(write(tmp_path / "seg.wav", x, sr), tmp_path, segments=segments)
    assert res.slices
    for s in res.slices:
        inside = [seg for seg in segments if seg[0] - 1e-6 <= s.start and s.end <= seg[1] + 1e-6]
        assert inside, (s.start, s.end)
    firsts = {seg: min(s.start for s in res.slices if seg[0] - 1e-6 <= s.start < seg[1])
              for seg in segments}
    assert firsts == {seg: pytest.approx(seg[0], abs=1e-6) for seg in segments}
    # audio matches the source at the reported position (peak mode = a plain gain); the
    # reference is the third segment resampled and high-passed from its own start
    s = res.slices[-1]
    y, _ = sf.read(str(s.path_gt), dtype="float32")
    assert len(y) == round(s.duration * 40000)
    ref = dsp.Highpass(40000, 48.0).process(soxr.resample(x[int(12.5 * sr):], sr, 40000))
    at = round((s.start - 12.5) * 40000)
    assert np.corrcoef(y[4000:8000], ref[at + 4000:at + 8000])[0, 1] > 0.999


def test_bad_segments(tmp_path):
    p = write(tmp_path / "s.wav", _speechy(3.0, 16000), 16000)
    with pytest.raises(ValueError, match="segment 2"):
        _run(p, tmp_path, segments=[(0.0, 1.0), (2.0, 1.5)])
    res = _run(p, tmp_path, segments=[(0.0, 2.5), (2.0, 2.9), (5.0, 6.0)])
    assert any("merged" in w for w in res.warnings)
    assert any("segment 3" in w and "after the end" in w for w in res.warnings)


def test_eight_channel_input(tmp_path):
    sr = 48000
    chans = np.stack([_speechy(4.5, sr, seed=i) for i in range(8)], axis=1)
    res = _run(write(tmp_path / "8ch.wav", chans, sr), tmp_path)
    assert res.info.channels == 8
    assert len(res.slices) == 2
    assert sf.info(str(res.slices[0].path_gt)).channels == 1


def test_384k_input_is_resampled(tmp_path):
    sr = 384000
    res = _run(write(tmp_path / "hi.wav", _speechy(3.0, sr), sr, "PCM_24"), tmp_path)
    (s,) = res.slices
    assert sf.info(str(s.path_gt)).samplerate == 40000
    assert s.duration == pytest.approx(3.0, abs=0.01)


def test_nan_samples_are_zeroed_with_a_warning(tmp_path):
    x = _speechy(3.0, 16000)
    x[1000:1100] = np.nan
    res = _run(write(tmp_path / "nan.wav", x, 16000), tmp_path)
    assert any("100 invalid samples" in w and "silence" in w for w in res.warnings)
    for s in res.slices:
        assert np.isfinite(sf.read(str(s.path_gt))[0]).all()


def test_unicode_paths(unicode_dir):
    src = write(unicode_dir / "Stimme – ä 1.wav", _speechy(2.0, 22050), 22050)
    res = process_source(src, PrepareSettings(), 40000, unicode_dir / "gt ü",
                         unicode_dir / "16k 声", "Stimme – ä 1")
    assert res.slices[0].path_gt.exists() and res.slices[0].path_16k.exists()
    assert res.slices[0].path_gt.name == "Stimme – ä 1_0000.wav"


def test_cancel_and_progress(tmp_path):
    p = write(tmp_path / "c.wav", _speechy(10.0, 16000), 16000)
    seen = []
    _ = process_source(p, PrepareSettings(), 40000, tmp_path / "g", tmp_path / "k", "c",
                       progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 5

    class Stop(Exception):
        pass

    calls = []

    def check():
        calls.append(1)
        if len(calls) > 3:
            raise Stop

    with pytest.raises(Stop):
        process_source(p, PrepareSettings(), 40000, tmp_path / "g2", tmp_path / "k2", "c",
                       check=check)


def test_bad_source_and_settings(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioLoadError, match="empty"):
        _run(tmp_path / "empty.wav", tmp_path)
    with pytest.raises(ValueError, match="peak_alpha"):
        _run(tmp_path / "empty.wav", tmp_path, peak_alpha=2.0)


def test_slice_problems_come_from_health(tmp_path):
    sr = 16000
    x = _speechy(3.0, sr)
    x[sr:sr + 400] = 1.0  # 400 clipped samples = 0.8 % of the 3 s clip at 16 kHz
    res = _run(write(tmp_path / "clip.wav", x, sr), tmp_path)
    kinds = {p["kind"]: p["severity"] for s in res.slices for p in s.problems}
    assert kinds.get("clipping") == "warning"
    assert kinds.get("low_sample_rate") == "warning"


def test_settings_roundtrip_and_validation():
    s = PrepareSettings(normalize="lufs", chunk_seconds=4.0)
    assert PrepareSettings.from_dict(s.to_dict()) == s
    with pytest.raises(ValueError, match="'treshold_db'"):
        PrepareSettings.from_dict({"treshold_db": -40})
    errs = PrepareSettings(normalize="loud", min_interval_ms=5, hop_ms=10).validate()
    assert any(e.startswith("normalize") for e in errs)
    assert any(e.startswith("min_interval_ms") for e in errs)
    assert PrepareSettings().validate() == []
    assert PrepareSettings(threshold_db="x").validate() == ["threshold_db must be a number "
                                                            "(got 'x')"]


def test_m4a_source_through_ffmpeg(unicode_dir):
    from tests.dataset.test_audio_io import _m4a
    res = process_source(_m4a(unicode_dir / "take – ü.m4a", 3.0), PrepareSettings(), 40000,
                         unicode_dir / "gt", unicode_dir / "16k", "take")
    assert res.info.decoder == "ffmpeg"
    assert len(res.slices) == 1 and res.slices[0].duration == pytest.approx(3.0, abs=0.05)
