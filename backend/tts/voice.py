"""The optional voice pass: speech from a text-to-speech model, converted into a voice of the
models library (an RVC voice model) by the conversion pipeline (``backend.convert.pipeline``).

So a user with too little labelled audio for a TTS model of their own still hears their
voice: any TTS model speaks, their voice model converts. The speech goes through exactly
what ``convert`` does to a recording (to 16 kHz, pitch, content features, retrieval,
synthesis at the voice model's rate; ``key`` shifts the pitch in semitones). The result is
at the voice model's sample rate, the same length; afterwards the pauses between sentences
are made silent again and every sentence faded in and out, so the conversion's own noise in
the pauses and any step at a sentence's edge are gone, and the sentence times still hold.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from backend.convert.settings import ConvertSettings
from backend.tts.speak import Speech, fade_edges

DEFAULT_F0 = "rmvpe"


def voice_settings(key: float = 0.0, f0_method: str | None = None,
                   index_rate: float | None = None) -> ConvertSettings:
    """Conversion settings for speech (RVC's defaults otherwise); BadArgs names a bad one."""
    return ConvertSettings.from_args({"key": key, "f0_method": f0_method or DEFAULT_F0,
                                      "index_rate": index_rate})


def converter(parts: Any, device: str) -> Any:
    """A ``Converter`` over loaded parts (``backend.jobs.conversion.load``)."""
    from backend.convert.pipeline import Converter

    return Converter(parts.model, encoder=parts.encoder, f0=parts.f0,
                     retrieval=parts.retrieval, device=device)


def convert_speech(conv: Any, speech: Speech, settings: ConvertSettings, *,
                   check: Callable[[], None] = lambda: None,
                   progress: Callable[[float, float], None] | None = None) -> Speech:
    """``speech`` in the converter's voice, at its model's rate; same sentences and times."""
    audio, rate = conv.convert(speech.audio, speech.sample_rate, settings, check=check,
                               progress=progress)
    return Speech(regate(audio, rate, [(s.start, s.end) for s in speech.sentences]), rate,
                  speech.sentences, speech.normalized, speech.phonemes, speech.unsupported)


def regate(audio: np.ndarray, rate: int, spans: list[tuple[float, float]]) -> np.ndarray:
    """Only the ``spans`` (seconds) of ``audio``, each faded in and out; silence between."""
    out = np.zeros(audio.shape[0], dtype=np.float32)
    for start, end in spans:
        a = min(int(round(start * rate)), audio.shape[0])
        b = min(int(round(end * rate)), audio.shape[0])
        if b > a:
            out[a:b] = fade_edges(audio[a:b], rate)
    return out
