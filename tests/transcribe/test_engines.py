"""The transcription engines: pocketsphinx (silence, noise, confidence) and faster-whisper on a
tiny random-weight CTranslate2 model built in the test (loading, decoding, word timestamps)."""

from __future__ import annotations

import numpy as np
import pytest

from backend.dataset.audio_io import load
from backend.transcribe.engine import SAMPLE_RATE, open_engine
from tests.conftest import festival_wav


@pytest.fixture(scope="module")
def sphinx():
    return open_engine("pocketsphinx")


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> np.ndarray:
    path = festival_wav(tmp_path_factory.mktemp("speech") / "speech.wav",
                        "The birch canoe slid on the smooth planks.")
    audio, _sr = load(path, sr=SAMPLE_RATE)
    return audio


def _silences() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 2 * SAMPLE_RATE
    t = np.arange(n) / SAMPLE_RATE
    return {
        "digital silence": np.zeros(n),
        "dither (-100 dBFS)": rng.standard_normal(n) * 1e-5,
        "room noise (-60 dBFS)": rng.standard_normal(n) * 1e-3,
        "mains hum": 0.01 * np.sin(2 * np.pi * 50 * t),
        "a click": np.r_[np.zeros(n // 2), [0.9], np.zeros(n // 2)],
        "100 samples": np.zeros(100),
        "no samples": np.zeros(0),
    }


@pytest.mark.parametrize("case", list(_silences()))
def test_sphinx_gives_empty_text_for_silence_and_noise(sphinx, case):
    result = sphinx.transcribe(_silences()[case].astype(np.float32), word_timestamps=True)
    assert result.text == "" and result.words == ()
    assert result.confidence is None  # nothing recognised: the job flags it "empty"
    assert result.language == "en"


def test_sphinx_words_times_and_confidence(sphinx, speech):
    result = sphinx.transcribe(speech, word_timestamps=True)
    words = result.text.split()
    assert len(words) >= 5 and {"the", "smooth", "planks"} <= set(words)
    assert [w.text for w in result.words] == words
    duration = len(speech) / SAMPLE_RATE
    starts = [w.start for w in result.words]
    assert starts == sorted(starts)
    assert all(0 <= w.start < w.end <= duration + 0.02 for w in result.words)
    probs = [w.prob for w in result.words]
    assert all(p is not None and 0 < p <= 1 for p in probs)
    # a clip with misrecognised words is not 100 % sure of itself
    assert result.confidence is not None and 0.05 < result.confidence < 0.95
    assert result.confidence <= max(probs)
    # without word_timestamps: the same text, no words
    plain = sphinx.transcribe(speech)
    assert plain.text == result.text and plain.words == ()


def test_sphinx_speech_padded_with_silence_keeps_its_words(sphinx, speech):
    pad = np.zeros(2 * SAMPLE_RATE, dtype=np.float32)
    padded = sphinx.transcribe(np.r_[pad, speech, pad], word_timestamps=True)
    assert padded.text == sphinx.transcribe(speech).text
    assert padded.words[0].start >= 1.9  # times count from the start of the padded audio


def test_sphinx_refuses_other_languages_and_models():
    from backend.kernel import BadArgs

    with pytest.raises(BadArgs, match="only recognises English, not 'de'"):
        open_engine("pocketsphinx", language="de")
    with pytest.raises(BadArgs, match="one model, en-us, not 'large'"):
        open_engine("pocketsphinx", model="large")
