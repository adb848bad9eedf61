"""The shared conversion steps (backend/convert/steps.py) against RVC's rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from backend.convert import steps
from backend.convert.settings import ConvertSettings
from backend.kernel import BadArgs
from tests.convert.tiny_voice import save_index, tiny_encoder, tiny_voice


def _sine(freq: float, seconds: float, sr: int = 16000, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_to_16k_mixes_channels_and_resamples() -> None:
    left = _sine(440, 1.0, 44100)
    stereo = np.stack([left, left], axis=1)
    out = steps.to_16k(stereo, 44100)
    assert out.dtype == np.float32 and out.ndim == 1
    assert abs(out.shape[0] - 16000) <= 1
    spectrum = np.abs(np.fft.rfft(out[:16000]))
    assert abs(int(np.argmax(spectrum)) - 440) <= 1  # 1 Hz bins
    assert steps.to_16k(left[:16000], 16000).shape == (16000,)


def test_high_pass_cuts_rumble_keeps_voice_without_delay() -> None:
    low, voice = _sine(15, 4.0), _sine(300, 4.0)
    mid = slice(8000, -8000)  # away from the edges
    low_out = steps.high_pass_16k(low)[mid]
    assert np.sqrt(np.mean(low_out ** 2)) < 0.01 * np.sqrt(np.mean(low[mid] ** 2))
    voice_out = steps.high_pass_16k(voice)
    # zero phase: the passband comes out sample for sample, not delayed
    assert np.max(np.abs(voice_out[mid] - voice[mid])) < 0.01
    assert steps.high_pass_16k(np.zeros(5, np.float32)).shape == (5,)


def test_content_features_are_the_encoders_at_50_fps(tmp_path: Path) -> None:
    enc = tiny_encoder(tmp_path, "v1")
    wav = _sine(200, 1.0) + 0.01 * np.random.default_rng(0).standard_normal(16000)
    feats = steps.content_features(enc, wav.astype(np.float32), "v1")
    assert feats.dtype == np.float32 and feats.shape == (49, 256)
    np.testing.assert_allclose(feats, enc.encode(wav.astype(np.float32), "v1").numpy())


def _brute_blend(feats: np.ndarray, vectors: np.ndarray, rate: float) -> np.ndarray:
    d = ((feats[:, None, :] - vectors[None]) ** 2).sum(-1)  # squared L2, as faiss scores
    ix = np.argsort(d, axis=1)[:, :8]
    score = np.take_along_axis(d, ix, axis=1)
    w = 1.0 / score ** 2
    w /= w.sum(axis=1, keepdims=True)
    retrieved = (vectors[ix] * w[..., None]).sum(1)
    return rate * retrieved + (1 - rate) * feats


def test_retrieval_blends_eight_neighbours_by_inverse_squared_score(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((60, 768)).astype(np.float32)  # 60 vectors: one IVF list
    path = save_index(tmp_path, vectors)
    ret = steps.Retrieval.open(path, dim=768, version="v2")
    assert ret.vectors.shape == (60, 768)
    feats = (vectors[:5] + 0.3 * rng.standard_normal((5, 768))).astype(np.float32)
    for rate in (0.0, 0.75, 1.0):
        got = ret.blend(feats, rate)
        np.testing.assert_allclose(got, _brute_blend(feats, vectors, rate), rtol=1e-3,
                                   atol=1e-4)
    # an exact hit (score 0) gives that vector, not NaN
    np.testing.assert_allclose(ret.blend(vectors[:2], 1.0), vectors[:2], atol=1e-5)


def test_retrieval_names_the_file_when_dimensions_disagree(tmp_path: Path) -> None:
    path = save_index(tmp_path, np.random.default_rng(2).standard_normal((50, 768)))
    with pytest.raises(BadArgs) as err:
        steps.Retrieval.open(path, dim=256, version="v1")
    assert str(path) in err.value.message and "v2" in err.value.message
    broken = tmp_path / "added_IVF1_Flat_nprobe_1_x_v2.index"
    broken.write_bytes(b"not an index at all")
    with pytest.raises(BadArgs, match="is not a faiss index"):
        steps.Retrieval.open(broken)
    with pytest.raises(BadArgs, match="does not exist"):
        steps.Retrieval.open(tmp_path / "missing.index")


def test_upsample2_repeats_frames() -> None:
    feats = np.arange(6, dtype=np.float32).reshape(3, 2)
    np.testing.assert_array_equal(steps.upsample2(feats), [[0, 1], [0, 1], [2, 3], [2, 3],
                                                           [4, 5], [4, 5]])


def test_protect_mixes_only_unvoiced_frames() -> None:
    retrieved = np.ones((4, 3), np.float32)
    original = np.zeros((4, 3), np.float32)
    f0 = np.array([0.0, 120.0, 0.5, 200.0], np.float32)
    out = steps.protect(retrieved, original, f0, 0.33)
    np.testing.assert_allclose(out[:, 0], [0.33, 1.0, 0.33, 1.0], rtol=1e-6)
    assert steps.protect(retrieved, original, f0, 0.5) is retrieved  # 0.5: off


def test_shift_key_moves_voiced_frames_only() -> None:
    f0 = np.array([0.0, 100.0, 220.0], np.float32)
    np.testing.assert_allclose(steps.shift_key(f0, 12), [0.0, 200.0, 440.0], rtol=1e-6)
    np.testing.assert_allclose(steps.shift_key(f0, -12), [0.0, 50.0, 110.0], rtol=1e-6)
    np.testing.assert_allclose(steps.shift_key(f0, 7)[1], 100 * 2 ** (7 / 12), rtol=1e-6)


def test_synthesize_is_seeded_and_leaves_the_callers_rng_alone() -> None:
    model = tiny_voice("v2", 40000, True)
    rng = np.random.default_rng(3)
    feats = rng.standard_normal((60, 768)).astype(np.float32)
    f0 = np.where(np.arange(60) % 10 < 7, 150.0, 0.0).astype(np.float32)
    settings = ConvertSettings()
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = steps.synthesize(model, feats, f0, settings, seed=5)
    assert torch.equal(torch.get_rng_state(), before)
    b = steps.synthesize(model, feats, f0, settings, seed=5)
    c = steps.synthesize(model, feats, f0, settings, seed=6)
    assert a.dtype == np.float32 and a.shape == (60 * model.hop,)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    # a different key gives other audio (coarse pitch and the NSF source follow f0)
    d = steps.synthesize(model, feats, steps.shift_key(f0, 12), settings, seed=5)
    assert not np.allclose(a, d)


def test_synthesize_skip_frames_decodes_only_the_tail() -> None:
    model = tiny_voice("v1", 32000, True, seed=1)
    feats = np.random.default_rng(4).standard_normal((80, 256)).astype(np.float32)
    f0 = np.full(80, 140.0, np.float32)
    full = steps.synthesize(model, feats, f0, ConvertSettings(), noise_scale=0.0)
    tail = steps.synthesize(model, feats, f0, ConvertSettings(), skip_frames=30,
                            noise_scale=0.0)
    assert tail.shape == (50 * model.hop,)
    # far from the cut the tail is the same audio (the decoder's context is local)
    np.testing.assert_allclose(tail[-20 * model.hop:], full[-20 * model.hop:], atol=2e-3)
    with pytest.raises(ValueError, match="skip_frames"):
        steps.synthesize(model, feats, f0, ConvertSettings(), skip_frames=80)


def test_synthesize_without_pitch() -> None:
    model = tiny_voice("v2", 48000, False, seed=2)
    feats = np.random.default_rng(5).standard_normal((30, 768)).astype(np.float32)
    out = steps.synthesize(model, feats, None, ConvertSettings())
    assert out.shape == (30 * model.hop,) and np.isfinite(out).all()


def test_rms_envelope_matches_librosa() -> None:
    import librosa

    x = np.random.default_rng(6).standard_normal(40000).astype(np.float32)
    x[:10000] *= 0.1
    ref = librosa.feature.rms(y=x, frame_length=16000, hop_length=8000)[0]
    np.testing.assert_allclose(steps.rms_envelope(x, 16000, 8000), ref, rtol=1e-4)


def test_rms_mix_imposes_the_input_envelope() -> None:
    rng = np.random.default_rng(7)
    src = rng.standard_normal(16000 * 6).astype(np.float32)
    src[: 16000 * 3] *= 0.5  # loud first half
    src[16000 * 3:] *= 0.05  # quiet second half
    out = (0.2 * rng.standard_normal(40000 * 6)).astype(np.float32)  # even loudness
    np.testing.assert_array_equal(steps.rms_mix(out, 40000, src, 1.0), out)
    mixed = steps.rms_mix(out.copy(), 40000, src, 0.0)

    def level(x: np.ndarray, t: float, sr: int) -> float:
        seg = x[int((t - 0.25) * sr): int((t + 0.25) * sr)]
        return float(np.sqrt(np.mean(seg ** 2)))

    for t in (1.0, 5.0):  # the middle of each half: the input's level
        assert level(mixed, t, 40000) == pytest.approx(level(src, t, 16000), rel=0.15)
    half = steps.rms_mix(out.copy(), 40000, src, 0.5)  # geometric mean of both levels
    expected = np.sqrt(level(src, 5.0, 16000) * level(out, 5.0, 40000))
    assert level(half, 5.0, 40000) == pytest.approx(expected, rel=0.15)
