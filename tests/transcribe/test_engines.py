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


# faster-whisper ----------------------------------------------------------------------------


def _fast():
    from backend.transcribe.whisper import DecodeOptions

    return DecodeOptions(beam_size=1, temperatures=(0.0,))


@pytest.fixture(scope="module")
def whisper(tiny_whisper):
    from backend.transcribe.whisper import WhisperEngine

    return WhisperEngine(model=str(tiny_whisper), options=_fast())


def test_whisper_loads_a_folder_with_spaces_and_chinese_characters(whisper, tiny_whisper):
    assert "我的 模型" in str(tiny_whisper)
    assert whisper.folder == tiny_whisper
    assert whisper.compute_type == "int8"  # on the CPU
    assert whisper.model_id == f"faster-whisper:{tiny_whisper.name}:int8"
    assert whisper._model.model.is_multilingual
    assert "en" in whisper.languages and "zh" in whisper.languages
    assert len(whisper.languages) == 99 and "yue" not in whisper.languages  # large-v3 has it


def test_whisper_transcribes_with_word_timestamps(whisper, speech, no_network):
    duration = len(speech) / SAMPLE_RATE
    result = whisper.transcribe(speech, word_timestamps=True)
    assert result.language in whisper.languages  # detected (random weights: any language)
    assert result.text and result.words  # random tokens, but words all the same
    starts = [w.start for w in result.words]
    assert starts == sorted(starts)
    assert all(0.0 <= w.start <= w.end <= duration for w in result.words)
    assert all(w.prob is not None and 0.0 <= w.prob <= 1.0 for w in result.words)
    assert all(w.text == w.text.strip() and w.text for w in result.words)
    # random weights: the model is unsure of every token, and says so
    assert result.confidence is not None and 0.0 < result.confidence < 0.2


def test_whisper_given_language_and_no_words_without_timestamps(whisper, speech, no_network):
    result = whisper.transcribe(speech, language="DE")
    assert result.language == "de" and result.words == ()
    assert result.text == " ".join(result.text.split())  # one space between words, no ends


def test_whisper_silence_is_empty_without_decoding(whisper, no_network):
    for audio in (np.zeros(SAMPLE_RATE, np.float32), np.zeros(10, np.float32)):
        result = whisper.transcribe(audio, word_timestamps=True)
        assert result.text == "" and result.words == () and result.confidence is None


def test_whisper_default_decoding_runs(tiny_whisper, no_network):
    """The real defaults (beam 5, temperature fallback) on a short clip."""
    from backend.transcribe.engine import open_engine
    from backend.transcribe.whisper import max_new_tokens

    engine = open_engine("faster-whisper", model=str(tiny_whisper), language="en")
    t = np.arange(SAMPLE_RATE // 2) / SAMPLE_RATE
    result = engine.transcribe((0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32))
    assert result.language == "en"
    assert max_new_tokens(0.5) == 36 and max_new_tokens(120.0) == 440


def test_whisper_in_memory_load_for_windows_non_ascii_paths(tiny_whisper, speech, no_network):
    from backend.transcribe.whisper import load_model

    model = load_model(tiny_whisper, "cpu", 0, "int8", in_memory=True)
    segments, info = model.transcribe(speech[:SAMPLE_RATE], beam_size=1, temperature=[0.0],
                                      max_new_tokens=8, condition_on_previous_text=False)
    assert isinstance(list(segments), list) and info.language


def test_whisper_bad_language_model_and_device(tiny_whisper, tmp_path, whisper):
    from backend.kernel import BadArgs
    from backend.transcribe.whisper import WhisperEngine, parse_device

    with pytest.raises(BadArgs, match="does not know the language 'xx'"):
        whisper.transcribe(np.zeros(SAMPLE_RATE, np.float32), language="xx")
    with pytest.raises(BadArgs, match="does not know the language 'yue'; it knows 99"):
        WhisperEngine(model=str(tiny_whisper), language="yue")
    with pytest.raises(BadArgs, match="unknown faster-whisper model 'huge'"):
        WhisperEngine(model="huge")
    broken = tmp_path / "半个 model"
    broken.mkdir()
    (broken / "model.bin").write_bytes((tiny_whisper / "model.bin").read_bytes())
    with pytest.raises(BadArgs, match=r"config.json, tokenizer.json, vocabulary.json \(or "
                                      r"vocabulary.txt\) missing"):
        WhisperEngine(model=str(broken))
    assert WhisperEngine(model=str(tiny_whisper / "model.bin")).folder == tiny_whisper
    damaged = tmp_path / "damaged 模型"
    damaged.mkdir()
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        (damaged / name).write_bytes((tiny_whisper / name).read_bytes())
    (damaged / "model.bin").write_bytes((tiny_whisper / "model.bin").read_bytes()[:5000])
    from backend.kernel import JobError

    with pytest.raises(JobError, match=r"could not load the faster-whisper model in .*damaged "
                                       r"模型 on cpu \(int8\)"):
        WhisperEngine(model=str(damaged))
    assert parse_device("auto") == ("cpu", 0) and parse_device("CPU") == ("cpu", 0)
    with pytest.raises(BadArgs, match="sees 0 CUDA GPU"):
        parse_device("cuda:0")
    with pytest.raises(BadArgs, match="unknown device 'tpu'"):
        parse_device("tpu")


def test_whisper_catalogue_model_not_installed_says_how_to_get_it(tmp_path, monkeypatch):
    from backend.assets.store import MissingAsset
    from backend.transcribe.engine import open_engine

    monkeypatch.setenv("TIMBRE_DATA_DIR", str(tmp_path / "empty data"))
    with pytest.raises(MissingAsset, match="Whisper small"):  # no model: the recommended one
        open_engine("faster-whisper")
    with pytest.raises(MissingAsset) as err:
        open_engine("faster-whisper", model="whisper-small")
    assert "python -m backend assets download whisper-small" in err.value.message
    assert "model.bin" in err.value.message and "vocabulary.txt" in err.value.message
    assert err.value.details["name"] == "whisper-small"
    assert err.value.details["size"] == 486_212_372  # every file of the bundle
