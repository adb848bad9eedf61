"""The engine interface: audio in (mono float32, 16 kHz), words with times and a confidence out.

An engine is a small class registered in ``ENGINES`` by name; ``open_engine`` builds one with its
model resolved (an asset name, a folder, or the model its package ships). Adding an engine (FunASR,
SenseVoice) is a new module with a class that has these attributes and one entry in ``ENGINES``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from backend.kernel import BadArgs

SAMPLE_RATE = 16000
# GPT-SoVITS language codes (the .list format writes these, upper-cased by some tools)
LIST_LANGUAGES = ("zh", "ja", "en", "ko", "yue")


@dataclass(frozen=True)
class Word:
    text: str
    start: float  # seconds from the start of the audio given to ``transcribe``
    end: float
    prob: float | None = None  # 0..1, None when the engine gives none


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str | None  # ISO 639-1 code ("en", "zh", ...; "yue" for Cantonese) or None
    confidence: float | None  # 0..1 for the whole clip; None when the engine gives none
    words: tuple[Word, ...] = field(default_factory=tuple)


class Engine(Protocol):
    name: str  # registry name: "pocketsphinx", "faster-whisper"
    model_id: str  # what exactly transcribed (engine:model[:compute type]); stored per row
    languages: tuple[str, ...] | None  # None: any (detected or given)

    @staticmethod
    def check(*, model: str | None = None, language: str | None = None,
              device: str = "cpu") -> None:
        """Refuse what the constructor would refuse, as far as it can be known without
        loading a model (a job's ``prepare`` runs on the server's reader thread)."""
        ...

    def transcribe(self, audio: np.ndarray, *, language: str | None = None,
                   word_timestamps: bool = False) -> Transcript:
        """``audio``: mono float32 at 16 kHz. Never returns None; silence gives empty text."""
        ...


# name -> (module, class); the class is built as cls(model=..., language=..., device=...)
ENGINES: dict[str, tuple[str, str]] = {
    "pocketsphinx": ("backend.transcribe.sphinx", "SphinxEngine"),
    "faster-whisper": ("backend.transcribe.whisper", "WhisperEngine"),
}
DEFAULT_ENGINE = "pocketsphinx"  # works with no download (US English)


def engine_class(name: str) -> Any:
    if name not in ENGINES:
        raise BadArgs(f"unknown transcription engine {name!r}; known engines: "
                      f"{', '.join(ENGINES)}")
    module, cls = ENGINES[name]
    return getattr(importlib.import_module(module), cls)


def check_engine(name: str, *, model: str | None = None, language: str | None = None,
                 device: str = "cpu") -> None:
    """``open_engine``'s refusals that need no model loaded: fast enough for a job's
    ``prepare``."""
    engine_class(name).check(model=model, language=language, device=device)


def open_engine(name: str, *, model: str | None = None, language: str | None = None,
                device: str = "cpu") -> Engine:
    """Build engine ``name``. Raises ``BadArgs`` (unknown engine or model, a language the
    engine cannot do) or ``MissingAsset`` (a model to download)."""
    engine: Engine = engine_class(name)(model=model, language=language, device=device)
    return engine
