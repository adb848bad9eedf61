"""Word error rate of the no-download engine (pocketsphinx) on synthesised English speech.

Six sentences, spoken by festival's ``cmu_us_slt_arctic_hts`` (female, HTS) and ``kal_diphone``
(male, diphone) voices and by espeak-ng (``en-us+f2`` at 140 words per minute), generated in
the test and transcribed one clip at a time, as the transcribe job does. WER is jiwer's over
all six sentences of a voice, after lower-casing and removing punctuation.

Measured (pocketsphinx 5.1.1, its en-us model; 51 words per voice): slt 0.020 (1 error),
kal 0.078 (4), espeak-ng 0.353 (18). pocketsphinx hears espeak's formant voice badly: its
default male voice ``en`` scored about 0.9 on these sentences, so the espeak fixture uses the
female variant it recognises best. Mean clip confidence: slt 0.74, kal 0.70, espeak-ng 0.32.
The bars below are the measurement plus a margin for other machines' synthesiser builds.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from backend.dataset.audio_io import load
from backend.transcribe.engine import SAMPLE_RATE, open_engine
from tests.conftest import festival_wav

SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Please call me when you get home tonight.",
    "We will meet at the station in the morning.",
    "The weather is very cold and wet today.",
    "I would like a cup of tea with milk.",
    "Open the door and let the cat out.",
)
VOICES = ("festival slt", "festival kal", "espeak-ng f2")
MEASURED = {"festival slt": 0.020, "festival kal": 0.078, "espeak-ng f2": 0.353}
BARS = {"festival slt": 0.10, "festival kal": 0.15, "espeak-ng f2": 0.50}


def _speak(voice: str, text: str, path: Path) -> Path:
    if voice == "festival slt":
        return festival_wav(path, text, "voice_cmu_us_slt_arctic_hts")
    if voice == "festival kal":
        return festival_wav(path, text, "voice_kal_diphone")
    exe = shutil.which("espeak-ng")
    if exe is None:
        pytest.fail("espeak-ng is not installed: run the README's test command")
    subprocess.run([exe, "-v", "en-us+f2", "-s", "140", "-w", str(path), text], check=True)
    return path


def _normalise(text: str) -> str:
    import jiwer

    return jiwer.Compose([jiwer.ToLowerCase(), jiwer.RemovePunctuation(),
                          jiwer.RemoveMultipleSpaces(), jiwer.Strip()])(text)


@pytest.fixture(scope="module")
def transcripts(tmp_path_factory) -> dict[str, list]:
    folder = tmp_path_factory.mktemp("wer speech 语音")
    engine = open_engine("pocketsphinx")
    out: dict[str, list] = {}
    for voice in VOICES:
        out[voice] = []
        for i, sentence in enumerate(SENTENCES):
            wav = _speak(voice, sentence, folder / f"{voice.replace(' ', '_')}_{i}.wav")
            audio, _sr = load(wav, sr=SAMPLE_RATE)
            out[voice].append(engine.transcribe(audio, word_timestamps=True))
    return out


def wer(results) -> float:
    import jiwer

    refs = [_normalise(s) for s in SENTENCES]
    hyps = [_normalise(r.text) for r in results]
    return float(jiwer.wer(refs, hyps))


@pytest.mark.slow
@pytest.mark.parametrize("voice", VOICES)
def test_pocketsphinx_word_error_rate(transcripts, voice):
    measured = wer(transcripts[voice])
    print(f"{voice}: WER {measured:.3f} (measured when the bar was set: {MEASURED[voice]})")
    assert measured <= BARS[voice], [r.text for r in transcripts[voice]]
    assert all(r.words and r.confidence is not None for r in transcripts[voice])


@pytest.mark.slow
def test_confidence_follows_the_errors(transcripts):
    """The voice pocketsphinx gets wrong gets the lower confidence."""
    def mean(voice):
        return sum(r.confidence for r in transcripts[voice]) / len(SENTENCES)

    print({voice: round(mean(voice), 3) for voice in VOICES})

    assert mean("espeak-ng f2") < mean("festival slt") - 0.1
    assert mean("espeak-ng f2") < mean("festival kal") - 0.1
