"""The offline Converter: settings reach the steps, models with and without pitch, checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backend.convert import steps
from backend.convert.pipeline import Converter
from backend.convert.settings import ConvertSettings
from backend.features.f0 import F0Extractor
from backend.kernel import BadArgs
from tests.conftest import espeak_wav
from tests.convert.tiny_voice import LocalEncoder, save_index, tiny_encoder, tiny_voice


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, int]:
    from backend.dataset.audio_io import load

    path = espeak_wav(tmp_path_factory.mktemp("speech") / "speech.wav",
                      "Please call Stella, ask her to come.")
    return load(path)


class CountingF0(F0Extractor):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[int, str, int]] = []

    def extract(self, wav16k: np.ndarray, method: str, **kw: object) -> np.ndarray:
        self.calls.append((wav16k.shape[0], method, int(kw.get("filter_radius", 3))))
        return super().extract(wav16k, method, **kw)


def test_converts_speech_at_the_models_rate(speech: tuple) -> None:
    audio, sr = speech
    model = tiny_voice("v2", 40000, True)
    f0 = CountingF0()
    conv = Converter(model, encoder=LocalEncoder(), f0=f0)
    out, rate = conv.convert(audio, sr, ConvertSettings(f0_method="pm", filter_radius=5))
    assert rate == 40000 and out.dtype == np.float32
    assert out.shape[0] == pytest.approx(audio.shape[0] * 40000 / sr, abs=1)
    assert np.isfinite(out).all() and 0 < np.abs(out).max() <= 0.99
    # pitch once, over the input with 1 s reflected on each side, with the settings' method
    (n, method, radius), = f0.calls
    assert method == "pm" and radius == 5 and n >= audio.shape[0] * 16000 / sr + 32000 - 1
    again, _ = conv.convert(audio, sr, ConvertSettings(f0_method="pm", filter_radius=5))
    np.testing.assert_array_equal(out, again)  # seeded: the same file gives the same output


def test_key_index_and_protect_reach_the_synthesizer(tmp_path: Path, speech: tuple,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    audio, sr = speech
    seen: list[tuple[np.ndarray, np.ndarray]] = []

    def spy(model, feats100, f0, settings, **kw):  # noqa: ANN001, ANN003
        seen.append((feats100, f0))
        return np.zeros((len(feats100) - kw.get("skip_frames", 0)) * model.hop, np.float32)

    monkeypatch.setattr(steps, "synthesize", spy)
    model = tiny_voice("v2", 32000, True, seed=1)
    enc = LocalEncoder()
    vectors = np.random.default_rng(0).standard_normal((60, 768)).astype(np.float32)
    retrieval = steps.Retrieval.open(save_index(tmp_path, vectors))
    conv = Converter(model, encoder=enc, f0=F0Extractor(), retrieval=retrieval)
    conv.convert(audio, sr, ConvertSettings(f0_method="pm", index_rate=0.0))
    conv.convert(audio, sr, ConvertSettings(f0_method="pm", index_rate=0.0, key=12))
    conv.convert(audio, sr, ConvertSettings(f0_method="pm", index_rate=0.6, protect=0.2))
    (plain, f0), (_, f0_up), (blended, f0_b) = seen
    voiced = f0 > 0
    assert voiced.mean() > 0.2 and (~voiced).mean() > 0.1
    np.testing.assert_allclose(f0_up, f0 * 2.0, rtol=1e-5)
    # what retrieval and protection do, frame by frame, from the features without them
    wav = steps.high_pass_16k(steps.to_16k(audio, sr))
    padded = np.pad(wav, (16000, 16000 + (-len(wav)) % 160), mode="reflect")
    feats = steps.content_features(enc, padded, "v2")
    retrieved = steps.upsample2(retrieval.blend(feats, 0.6))[: len(plain)]
    n = len(retrieved)
    np.testing.assert_allclose(blended[:n][voiced[:n]], retrieved[voiced[:n]], atol=1e-4)
    mix = 0.2 * retrieved + 0.8 * plain[:n]
    np.testing.assert_allclose(blended[:n][~voiced[:n]], mix[~voiced[:n]], atol=1e-4)


def test_model_without_pitch_never_extracts_pitch_and_resamples(tmp_path: Path,
                                                                speech: tuple) -> None:
    audio, sr = speech
    f0 = CountingF0()
    model = tiny_voice("v1", 48000, False, seed=2)
    out, rate = Converter(model, encoder=tiny_encoder(tmp_path, "v1"), f0=f0).convert(
        audio, sr, ConvertSettings(output_rate=22050))
    assert rate == 22050 and f0.calls == []
    assert out.shape[0] == pytest.approx(audio.shape[0] * 22050 / sr, abs=2)


def test_mismatched_parts_are_named(tmp_path: Path) -> None:
    model = tiny_voice("v2", 40000, True)
    with pytest.raises(BadArgs, match="expects 768"):
        Converter(model, encoder=LocalEncoder(dim=256), f0=F0Extractor())
    index = save_index(tmp_path, np.random.default_rng(1).standard_normal((50, 256)), "x", "v1")
    with pytest.raises(BadArgs, match="holds 256-dim features"):
        Converter(model, encoder=LocalEncoder(), f0=F0Extractor(),
                  retrieval=steps.Retrieval.open(index))
    conv = Converter(model, encoder=LocalEncoder(), f0=F0Extractor())
    with pytest.raises(BadArgs, match="at least 50 ms"):
        conv.convert(np.zeros(100, np.float32), 16000, ConvertSettings(f0_method="pm"))
