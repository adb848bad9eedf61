"""The voice-model block converter: lengths, streaming against one pass, speed-up bounds,
models without pitch, key changes mid-stream. Tiny random-weight models (real formats)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from backend.convert.settings import ConvertSettings
from backend.features.f0 import F0Extractor
from backend.kernel import BadArgs
from backend.live.converter import LiveOptions, VoiceConverter, convert_whole
from backend.live.speedups import TorchDecoder, fold_weight_norm
from tests.convert.tiny_voice import tiny_encoder, tiny_voice

SR = 16000
BLOCK = 4000  # 0.25 s
CROSS, SEARCH = 800, 160
EXTRA = 16000
SETTINGS = ConvertSettings(f0_method="pm", rms_mix=1.0, index_rate=0.0)
QUIET = LiveOptions(noise_scale=0.0)


@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    return tiny_encoder(tmp_path_factory.mktemp("enc"), "v2")


@pytest.fixture(scope="module")
def encoder_v1(tmp_path_factory):
    return tiny_encoder(tmp_path_factory.mktemp("enc1"), "v1")


@pytest.fixture(scope="module")
def pitch():
    return F0Extractor()


def voiced(seconds: float, base: float = 140.0) -> np.ndarray:
    """A gliding two-harmonic tone (every frame voiced: the NSF excitation is all sine)."""
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * np.cumsum(base + 25 * np.sin(2 * np.pi * 0.7 * t)) / SR
    return (0.3 * np.sin(phase) + 0.12 * np.sin(2 * phase)).astype(np.float32)


def stream(conv: VoiceConverter, audio: np.ndarray, settings=SETTINGS, keys=None,
           extra: int = EXTRA):
    """Engine-like feed; returns each block's first block of output, concatenated, and the
    lag (model samples) by which the stream trails the input."""
    rate = conv.output_rate
    blk_out, n_out = BLOCK * rate // SR, (BLOCK + CROSS + SEARCH) * rate // SR
    win = np.zeros(extra + CROSS + SEARCH + BLOCK, np.float32)
    conv.reset()
    outs = []
    for i in range(audio.size // BLOCK):
        win[:-BLOCK] = win[BLOCK:]
        win[-BLOCK:] = audio[i * BLOCK:(i + 1) * BLOCK]
        s = settings if keys is None else dataclasses.replace(settings, key=keys[i])
        out = conv.convert(win, BLOCK, n_out, s)
        assert out.shape == (n_out,) and out.dtype == np.float32
        outs.append(out[:blk_out])
    return np.concatenate(outs), n_out - blk_out


def whole(conv: VoiceConverter, audio: np.ndarray, settings=SETTINGS) -> np.ndarray:
    """One pass over what the stream saw (its first window's zeros, then the audio)."""
    lead = EXTRA + CROSS + SEARCH
    out = convert_whole(conv, np.concatenate([np.zeros(lead, np.float32), audio]), settings)
    return out[lead * conv.output_rate // SR:]


def corr(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation (random tiny decoders put a large DC offset on their output)."""
    a, b = a - a.mean(), b - b.mean()
    return float(np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b)))


def quiet_voice(*args, **kwargs):
    """A tiny voice whose NSF excitation has no random noise (with noise_scale 0 and voiced
    input every step is deterministic, so streaming and one pass can agree closely)."""
    model = tiny_voice(*args, **kwargs)
    if model.f0:
        model.net.dec.m_source.noise_std = 0.0
    return model


def aligned_corr(streamed: np.ndarray, lag: int, ref: np.ndarray, skip: int) -> float:
    a = streamed[lag + skip:]
    b = ref[skip: skip + a.size]
    return corr(a[: b.size], b)


def snr_db(ref: np.ndarray, x: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(ref ** 2) / max(np.sum((ref - x) ** 2), 1e-30)))


@pytest.mark.parametrize("rate", [32000, 40000, 48000])
def test_output_is_exactly_n_out_samples(encoder, pitch, rate):
    conv = VoiceConverter(tiny_voice("v2", rate), encoder, pitch)
    rng = np.random.default_rng(0)
    win = (0.1 * rng.standard_normal(21000)).astype(np.float32)  # not a multiple of 320
    for n_new, n_out in [(4000, 12345), (4000, 1), (1600, 9920), (1234, 7000), (21000, 500)]:
        out = conv.convert(win, n_new, n_out, SETTINGS)
        assert out.shape == (n_out,) and np.isfinite(out).all()
    assert conv.convert(win[:500], 160, 800, SETTINGS).shape == (800,)  # too short: silence


def test_streaming_agrees_with_one_pass(encoder, pitch):
    conv = VoiceConverter(quiet_voice(), encoder, pitch, options=QUIET)
    audio = voiced(2.0)
    streamed, lag = stream(conv, audio)
    ref = whole(conv, audio)
    assert aligned_corr(streamed, lag, ref, skip=20000) > 0.995
    # a wrong alignment does not agree: the measure can fail
    assert aligned_corr(streamed, lag + 400, ref, skip=20000) < 0.5


def test_sine_phase_is_carried_across_blocks(encoder, pitch):
    """Without the carried phase each block's NSF sine restarts: further from one pass."""
    audio = voiced(2.0)
    model = quiet_voice()
    scores = {}
    for carry in (True, False):
        conv = VoiceConverter(model, encoder, pitch,
                              options=dataclasses.replace(QUIET, carry_phase=carry))
        streamed, lag = stream(conv, audio)
        scores[carry] = aligned_corr(streamed, lag, whole(conv, audio), skip=20000)
    assert scores[True] > 0.995 and scores[False] < 0.5, scores


# Each speed-up and the bound it is stated to keep (against the same stream without it).
SPEEDUP_BOUNDS = [
    ("decoder_context 8 vs all frames", dict(decoder_context=8, flow_context=16),
     dict(decoder_context=None, flow_context=10**9), 0.9999),
    ("HuBERT 1 s + cache vs 2.5 s each block", dict(encoder_s=1.0, cache=True),
     dict(encoder_s=2.5, synth_s=2.5, cache=False), 0.999),
    ("HuBERT 0.5 s + cache vs 2.5 s each block", dict(encoder_s=0.5, cache=True),
     dict(encoder_s=2.5, synth_s=2.5, cache=False), 0.999),
    ("pitch 0.3 s vs whole window", dict(pitch_s=0.3), dict(pitch_s=1e9), 0.999),
]


@pytest.mark.parametrize("label,fast,slow,bound", SPEEDUP_BOUNDS,
                         ids=[b[0] for b in SPEEDUP_BOUNDS])
def test_speedup_stays_within_its_bound(encoder, pitch, label, fast, slow, bound):
    model = quiet_voice()
    audio = voiced(2.0)
    runs = [stream(VoiceConverter(model, encoder, pitch,
                                  options=dataclasses.replace(QUIET, **o)), audio,
                   extra=40000)[0]  # room for 2.5 s of context
            for o in (fast, slow)]
    skip = 20000
    c = corr(runs[0][skip:], runs[1][skip:])
    print(label, c)
    assert c >= bound, (label, c)


def test_folded_decoder_matches_weight_norm_and_leaves_the_model_alone():
    model = tiny_voice()
    dec = model.net.dec
    keys = set(model.net.state_dict())
    folded = fold_weight_norm(dec)
    assert set(model.net.state_dict()) == keys  # still weight_g / weight_v: savable as-is
    assert any(k.endswith("weight_g") for k in keys)
    assert not any(k.endswith("weight_g") for k in folded.state_dict())
    torch.manual_seed(0)
    x, g = torch.randn(1, 16, 30), torch.randn(1, 16, 1)
    f0 = torch.full((1, 30), 150.0)
    source = dec.m_source(f0, dec.upp)
    with torch.inference_mode():
        ref = dec.body(x, source, g)
    out = TorchDecoder(dec, fold=True)(x, source, g)
    assert snr_db(ref.numpy(), out.numpy()) > 80  # float rounding only


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_models_without_pitch_convert(encoder, encoder_v1, version):
    enc = encoder if version == "v2" else encoder_v1
    conv = VoiceConverter(quiet_voice(version, 40000, f0=False), enc, None, options=QUIET)
    audio = voiced(2.0)
    streamed, lag = stream(conv, audio)
    assert np.isfinite(streamed).all() and np.abs(streamed).max() > 1e-4
    ref = whole(conv, audio)
    assert aligned_corr(streamed, lag, ref, skip=20000) > 0.97


def spectrum(x: np.ndarray) -> np.ndarray:
    """Log magnitude spectrum (phase-free: a key change also moves the sine's phase)."""
    return np.log(np.abs(np.fft.rfft((x - x.mean()) * np.hanning(x.size)))[:2000] + 1e-6)


def test_key_change_mid_stream_takes_effect_at_once(encoder, pitch):
    model = quiet_voice()
    audio = voiced(2.0)
    n = audio.size // BLOCK
    change = n // 2
    conv = VoiceConverter(model, encoder, pitch, options=QUIET)
    switched, _ = stream(conv, audio, keys=[0] * change + [12] * (n - change))
    low, _ = stream(conv, audio, keys=[0] * n)
    high, _ = stream(conv, audio, keys=[12] * n)
    per = BLOCK * conv.output_rate // SR
    before = slice((change - 1) * per, change * per)
    after = slice(change * per, (change + 1) * per)  # the very first block after the change
    assert corr(switched[before], low[before]) > 0.999
    to_high = corr(spectrum(switched[after]), spectrum(high[after]))
    to_low = corr(spectrum(switched[after]), spectrum(low[after]))
    assert to_high > 0.9 and to_high > to_low + 0.1, (to_high, to_low)


def test_unrelated_window_after_reset_matches_a_fresh_converter(encoder, pitch):
    model = tiny_voice()
    rng = np.random.default_rng(3)
    a = (0.2 * rng.standard_normal(21000)).astype(np.float32)
    b = voiced(21000 / SR)
    conv = VoiceConverter(model, encoder, pitch, options=QUIET)
    conv.convert(a, 4000, 9920, SETTINGS)
    conv.reset()
    fresh = VoiceConverter(model, encoder, pitch, options=QUIET)
    np.testing.assert_allclose(conv.convert(b, 4000, 9920, SETTINGS),
                               fresh.convert(b, 4000, 9920, SETTINGS), atol=1e-5)


def test_bad_options_are_named(encoder, pitch):
    conv = VoiceConverter(quiet_voice(), encoder, pitch)
    with pytest.raises(BadArgs, match="speaker must be from 0 to 3"):
        conv.convert(np.zeros(8000, np.float32), 4000, 9920,
                     dataclasses.replace(SETTINGS, speaker=4))
    with pytest.raises(BadArgs, match="decoder must be one of"):
        LiveOptions(decoder="tensorrt").check()
    with pytest.raises(BadArgs, match="encoder_s"):
        LiveOptions(encoder_s=0.01).check()


@pytest.mark.parametrize("kind,bound_db", [("onnx", 60.0), ("onnx-int8", 15.0)])
def test_onnx_decoders_stay_within_their_bound(kind, bound_db):
    """Optional runners (ONNX Runtime is not a dependency): skipped where it is missing."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from backend.live.speedups import make_decoder

    dec = quiet_voice().net.dec
    torch.manual_seed(1)
    x, g = torch.randn(1, 16, 40), torch.randn(1, 16, 1)
    source = dec.m_source(torch.full((1, 40), 180.0), dec.upp)
    ref = TorchDecoder(dec)(x, source, g).numpy()
    out = make_decoder(dec, kind)(x, source, g).numpy()
    assert out.shape == ref.shape
    assert snr_db(ref - ref.mean(), out - out.mean()) > bound_db
