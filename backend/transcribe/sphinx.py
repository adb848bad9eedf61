"""pocketsphinx: offline US-English recognition with the model its wheel ships (no download)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from backend.kernel import BadArgs
from backend.transcribe.engine import SAMPLE_RATE, Transcript, Word

_FRAME_S = 0.01  # pocketsphinx frames are 10 ms
_FILLERS = {"<s>", "</s>", "<sil>", "[NOISE]", "[SPEECH]", "[BREATH]", "[COUGH]", "[LAUGH]"}


class SphinxEngine:
    name = "pocketsphinx"
    languages: tuple[str, ...] | None = ("en",)

    def __init__(self, *, model: str | None = None, language: str | None = None,
                 device: str = "cpu") -> None:
        if language not in (None, "en"):
            raise BadArgs(f"the pocketsphinx engine only recognises English, not {language!r}; "
                          "choose faster-whisper for other languages")
        if model not in (None, "", "en-us"):
            raise BadArgs(f"the pocketsphinx engine has one model, en-us, not {model!r}")
        try:
            from pocketsphinx import Decoder
        except ImportError as exc:
            raise BadArgs("pocketsphinx is not installed: reinstall Timbre Studio") from exc
        self._decoder: Any = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
        self.model_id = "pocketsphinx:en-us"

    def transcribe(self, audio: np.ndarray, *, language: str | None = None,
                   word_timestamps: bool = False) -> Transcript:
        pcm = (np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0) * 32767.0)
        d = self._decoder
        d.start_utt()
        d.process_raw(pcm.astype("<i2").tobytes(), full_utt=True)
        d.end_utt()
        words = tuple(_words(d.seg()))
        text = " ".join(w.text for w in words)
        probs = [w.prob for w in words if w.prob is not None]
        conf = float(math.exp(sum(math.log(max(p, 1e-6)) for p in probs) / len(probs))) \
            if probs else None
        return Transcript(text, "en", conf, words if word_timestamps else ())


def _words(segments: Any) -> list[Word]:
    out = []
    for seg in segments:
        word = seg.word
        if word in _FILLERS or word.startswith("++"):
            continue
        word = word.split("(")[0]  # alternative pronunciations: "the(2)"
        prob = min(1.0, max(0.0, float(seg.prob)))
        out.append(Word(word, seg.start_frame * _FRAME_S, (seg.end_frame + 1) * _FRAME_S, prob))
    return out
