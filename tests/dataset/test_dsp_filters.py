"""High-pass, RMS framing, BS.1770 loudness, normalisation and chunk spans."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import signal

from backend.dataset import dsp
from tests.dataset.conftest import noise, tone


def _db(x: np.ndarray) -> float:
    return 20 * math.log10(float(np.sqrt(np.mean(x.astype(np.float64) ** 2))))


def _stream(filt: dsp.Highpass, x: np.ndarray, block: int) -> np.ndarray:
    return np.concatenate([filt.process(x[i:i + block]) for i in range(0, len(x), block)])


def test_highpass_removes_rumble_and_keeps_voice_band():
    sr = 40000
    rumble, voice = tone(20, 3.0, sr, 0.5), tone(200, 3.0, sr, 0.5)
    out_rumble = _stream(dsp.Highpass(sr, 48.0), rumble, 4096)[sr:]  # skip the transient
    out_voice = _stream(dsp.Highpass(sr, 48.0), voice, 4096)[sr:]
    assert _db(rumble) - _db(out_rumble) > 30  # 5th order at 20 Hz: about 38 dB
    assert abs(_db(voice[sr:]) - _db(out_voice)) < 0.1


def test_highpass_state_carries_across_blocks():
    sr = 48000
    x = noise(1.0, sr)
    whole = dsp.Highpass(sr, 48.0).process(x)
    for block in (1, 777, 48000):
        assert np.allclose(_stream(dsp.Highpass(sr, 48.0), x, block), whole, atol=1e-6)


def test_highpass_zero_cutoff_is_a_no_op():
    x = noise(0.1, 16000)
    assert dsp.Highpass(16000, 0).process(x) is x


def test_rms_framer_matches_direct_computation():
    hop, win = 100, 400
    x = noise(1.0, 16000, seed=3)
    framer = dsp.RmsFramer(hop, win)
    got = np.concatenate([framer.feed(x[i:i + 999]) for i in range(0, len(x), 999)]
                         + [framer.finish()])
    padded = np.concatenate((np.zeros(win // 2), x, np.zeros(win)))
    want = [np.sqrt(np.mean(padded[i * hop:i * hop + win] ** 2)) for i in range(len(got))]
    assert len(got) == 1 + len(x) // hop
    assert np.allclose(got, want, rtol=1e-4, atol=1e-7)


def test_k_weighting_matches_the_bs1770_table_at_48k():
    sos = dsp.k_weighting_sos(48000)
    assert np.allclose(sos[0, :3], [1.53512485958697, -2.69169618940638, 1.19839281085285])
    assert np.allclose(sos[0, 3:], [1.0, -1.69065929318241, 0.73248077421585])
    assert np.allclose(sos[1, :3], [1.0, -2.0, 1.0])
    assert np.allclose(sos[1, 3:], [1.0, -1.99004745483398, 0.99007225036621])


@pytest.mark.parametrize("sr", [44100, 48000])
def test_full_scale_997hz_sine_reads_minus_3_lufs(sr):
    assert dsp.integrated_loudness(tone(997, 5.0, sr, 1.0), sr) == pytest.approx(-3.01, abs=0.05)


def test_loudness_agrees_with_pyloudnorm():
    pyln = pytest.importorskip("pyloudnorm")
    sr = 40000
    x = np.concatenate([noise(2.0, sr, 0.05), np.zeros(sr, np.float32), tone(300, 2, sr, 0.2)])
    ours = dsp.integrated_loudness(x, sr)
    theirs = pyln.Meter(sr).integrated_loudness(x.astype(np.float64))
    assert ours == pytest.approx(theirs, abs=0.1)


def test_loudness_of_silence_and_short_clips_is_undefined():
    assert dsp.integrated_loudness(np.zeros(48000, np.float32), 48000) == -math.inf
    assert dsp.integrated_loudness(tone(440, 0.2, 48000), 48000) == -math.inf


@pytest.mark.parametrize("alpha", [1.0, 0.75, 0.0])
def test_peak_normalisation_hits_the_rvc_mix(alpha):
    x = tone(220, 1.0, 40000, 0.3)
    y = dsp.normalize_peak(x, 0.9, alpha)
    assert np.max(np.abs(y)) == pytest.approx(0.9 * alpha + (1 - alpha) * 0.3, rel=1e-5)
    assert np.allclose(y / np.max(np.abs(y)), x / np.max(np.abs(x)), atol=1e-6)


def test_peak_normalisation_leaves_silence_alone():
    x = np.zeros(100, np.float32)
    assert np.array_equal(dsp.normalize_peak(x, 0.9, 0.75), x)


def test_lufs_normalisation_hits_target():
    sr = 40000
    x = noise(3.0, sr, 0.01)  # about -40 LUFS, crest factor ~4.5: -23 LUFS fits under 0.9
    y, before = dsp.normalize_lufs(x, sr, -23.0, 0.9)
    assert before < -35
    assert dsp.integrated_loudness(y, sr) == pytest.approx(-23.0, abs=0.05)
    assert np.max(np.abs(y)) <= 0.9


def test_lufs_normalisation_never_exceeds_the_peak_limit():
    sr = 40000
    x = np.zeros(3 * sr, np.float32)
    x[::4000] = 0.05  # sparse clicks: very low loudness, high crest factor
    y, _ = dsp.normalize_lufs(x, sr, -14.0, 0.9)
    assert np.max(np.abs(y)) == pytest.approx(0.9, rel=1e-5)


def test_chunk_spans_lengths_and_overlap_are_exact():
    sr = 40000
    spans = dsp.chunk_spans(int(12.0 * sr), sr, 3.7, 0.3, 1.0)
    size, step = int(3.7 * sr), int(3.4 * sr)
    assert [a for a, _ in spans] == [i * step for i in range(len(spans))]
    assert all(b - a == size for a, b in spans[:-1])
    assert spans[-1][1] == 12 * sr
    assert spans[-1][1] - spans[-1][0] <= int(4.0 * sr)


@pytest.mark.parametrize(("seconds", "count"), [(0.5, 0), (3.9, 1), (4.0, 1), (4.1, 2),
                                                (4.3, 1), (7.5, 2), (8.0, 3)])
def test_chunk_spans_tail_rules(seconds, count):
    # 4.1 s: 3.7 s chunk + 0.7 s tail (kept with min 0.5); 4.3 s with min 1.0 drops the
    # 0.9 s tail; below min_s nothing is produced.
    min_s = 0.5 if seconds == 4.1 else 1.0
    sr = 16000
    spans = dsp.chunk_spans(int(seconds * sr), sr, 3.7, 0.3, min_s)
    assert len(spans) == count
    assert all(b - a >= min_s * sr for a, b in spans)


def test_chunking_disabled_keeps_whole_slice():
    assert dsp.chunk_spans(500_000, 40000, 0, 0, 1.0) == [(0, 500_000)]


def test_sosfilt_reference_rumble_attenuation():
    """Sanity check of the design itself against scipy's frequency response."""
    sos = signal.butter(5, 48.0, btype="highpass", fs=40000, output="sos")
    _, h = signal.sosfreqz(sos, worN=[20.0, 200.0], fs=40000)
    assert 20 * np.log10(abs(h[0])) < -35 and 20 * np.log10(abs(h[1])) > -0.01
