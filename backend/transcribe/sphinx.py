"""pocketsphinx: offline US-English recognition with the model its wheel ships (no download).

Silence and noise give empty text: the decoder's language model always finds some words, even
in digital silence (where the one path through the lattice has posterior 1.0), so audio in
which pocketsphinx's own voice activity detector finds no speech is not decoded at all.

Confidence: each word's lattice posterior, scaled down when fewer than half of its frames are
speech to the detector (a word laid over non-speech is not believed; a word that absorbed a
trailing pause keeps its posterior). The clip's confidence is the geometric mean of its
words' (one unlikely word pulls it down, which is what a proofreader needs to know). Empty
text has no confidence (None): the transcribe job flags it "empty".
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from backend.kernel import BadArgs
from backend.transcribe.engine import SAMPLE_RATE, Transcript, Word

_FRAME_S = 0.01  # pocketsphinx frames are 10 ms
_FILLERS = {"<s>", "</s>", "<sil>", "[NOISE]", "[SPEECH]", "[BREATH]", "[COUGH]", "[LAUGH]"}
VAD_MODE = 2  # 0 (loose) .. 3 (strict)
MIN_SPEECH_S = 0.09  # less speech than this (three 30 ms frames) is silence
_MIN_PROB = 1e-6


class SphinxEngine:
    name = "pocketsphinx"
    title = "pocketsphinx (US English, works with no download)"
    package = "pocketsphinx"
    offline = True  # its model ships with the package
    languages: tuple[str, ...] | None = ("en",)

    @staticmethod
    def models() -> list[dict[str, Any]]:
        return [{"name": "en-us", "installed": True, "size": None, "asset": None}]

    @staticmethod
    def check(*, model: str | None = None, language: str | None = None,
              device: str = "cpu") -> None:
        """What ``__init__`` would refuse, without loading anything (``BadArgs``)."""
        if language not in (None, "en"):
            raise BadArgs(f"the pocketsphinx engine only recognises English, not {language!r}; "
                          "choose faster-whisper for other languages")
        if model not in (None, "", "en-us"):
            raise BadArgs(f"the pocketsphinx engine has one model, en-us, not {model!r}")

    def __init__(self, *, model: str | None = None, language: str | None = None,
                 device: str = "cpu") -> None:
        self.check(model=model, language=language, device=device)
        try:
            from pocketsphinx import Decoder, Vad
        except ImportError as exc:
            raise BadArgs("pocketsphinx is not installed: reinstall Timbre Studio") from exc
        self._decoder: Any = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
        self._vad: Any = Vad(VAD_MODE, SAMPLE_RATE)
        self.model_id = "pocketsphinx:en-us"

    def transcribe(self, audio: np.ndarray, *, language: str | None = None,
                   word_timestamps: bool = False) -> Transcript:
        pcm = (np.clip(np.asarray(audio, dtype=np.float32).reshape(-1), -1.0, 1.0)
               * 32767.0).astype("<i2")
        speech = self._speech_frames(pcm)
        if speech.sum() * self._vad.frame_length < MIN_SPEECH_S:
            return Transcript("", "en", None, ())
        d = self._decoder
        d.start_utt()
        try:
            d.process_raw(pcm.tobytes(), full_utt=True)
        finally:  # an utterance left open makes every later start_utt fail
            d.end_utt()
        words = tuple(_words(d.seg() or (), speech, self._vad.frame_length))
        text = " ".join(w.text for w in words)
        conf = _geometric_mean([w.prob for w in words if w.prob is not None])
        return Transcript(text, "en", conf, words if word_timestamps else ())

    def _speech_frames(self, pcm: np.ndarray) -> np.ndarray:
        """One bool per VAD frame (30 ms): does it hold speech?"""
        n = self._vad.frame_bytes // 2
        count = len(pcm) // n
        data = pcm[:count * n].tobytes()
        step = n * 2
        return np.array([self._vad.is_speech(data[i * step:(i + 1) * step])
                         for i in range(count)], dtype=bool)


def _geometric_mean(probs: list[float]) -> float | None:
    if not probs:
        return None
    return float(math.exp(sum(math.log(max(p, _MIN_PROB)) for p in probs) / len(probs)))


def _speech_share(speech: np.ndarray, frame_s: float, start: float, end: float) -> float:
    first = int(start / frame_s)
    last = max(first + 1, int(math.ceil(end / frame_s)))
    frames = speech[first:last]
    return float(frames.mean()) if len(frames) else 0.0


def _words(segments: Any, speech: np.ndarray, frame_s: float) -> list[Word]:
    out = []
    for seg in segments:
        word = seg.word
        if word in _FILLERS or word.startswith("++"):
            continue
        word = word.split("(")[0]  # alternative pronunciations: "the(2)"
        start, end = seg.start_frame * _FRAME_S, (seg.end_frame + 1) * _FRAME_S
        posterior = min(1.0, max(0.0, float(seg.prob)))
        prob = posterior * min(1.0, 2.0 * _speech_share(speech, frame_s, start, end))
        out.append(Word(word, start, end, prob))
    return out
