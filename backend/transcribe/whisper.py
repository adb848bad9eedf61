"""faster-whisper (CTranslate2): multilingual recognition with word timestamps.

The model is a catalogue bundle (``tiny`` ... ``large-v3-turbo``) or a model folder
(``backend.transcribe.models``); faster-whisper is always handed a folder, so it never asks
the Hugging Face hub for anything. Compute type: int8 on the CPU; float16 on CUDA, else
int8_float16 where the GPU has no fast float16. The language is detected per clip unless given.

Decoding suits short prepared clips: no voice-activity filter (the clips are already sliced),
no conditioning on the previous window (clips are independent; it also stops one
hallucination from seeding the next), and at most ``TOKENS_PER_SECOND`` tokens per second of
audio (a loop of repeated words cannot run away). Digital silence gives empty text without
decoding (Whisper invents "Thank you." for it).

Confidence: per segment exp(avg_logprob) x (1 - no_speech_prob), the clip's the token-weighted
mean of its segments'. Empty text has none (None).
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backend.kernel import BadArgs, JobError
from backend.transcribe.engine import SAMPLE_RATE, Transcript, Word
from backend.transcribe.models import model_rows, resolve

TOKENS_PER_SECOND = 24
SILENCE_PEAK = 1e-4  # below -80 dBFS everywhere: nothing to hear
_MIN_SECONDS = 0.05
_MAX_NEW_TOKENS = 440  # Whisper's 448-token window less the prompt
CPU_COMPUTE = ("int8", "int8_float32", "float32")
CUDA_COMPUTE = ("float16", "int8_float16", "int8", "float32")


@dataclass(frozen=True)
class DecodeOptions:
    beam_size: int = 5
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # fallback ladder
    vad: bool = False


class WhisperEngine:
    name = "faster-whisper"
    title = "faster-whisper (Whisper: 99 languages, detected or given)"
    package = "faster_whisper"
    offline = False  # its models are downloads (assets), though it runs offline once installed
    languages: tuple[str, ...] | None = None  # the class: any; an instance: its model's

    @staticmethod
    def models() -> list[dict[str, Any]]:
        return model_rows()

    @staticmethod
    def check(*, model: str | None = None, language: str | None = None,
              device: str = "cpu") -> None:
        """What ``__init__`` would refuse that can be known without loading the model (a
        missing or incomplete model: ``MissingAsset``/``BadArgs``; a device without a GPU);
        the model's own languages are checked when it loads."""
        resolve(model)
        parse_device(device)

    def __init__(self, *, model: str | None = None, language: str | None = None,
                 device: str = "cpu", options: DecodeOptions | None = None) -> None:
        resolved = resolve(model)
        self.folder = resolved.folder
        self.device, index = parse_device(device)
        self.compute_type = choose_compute_type(self.device, index)
        self._model: Any = load_model(resolved.folder, self.device, index, self.compute_type)
        self.languages = known_languages(self._model)
        self.model_id = f"faster-whisper:{resolved.label}:{self.compute_type}"
        self.language = self._check_language(language)
        self.options = options or DecodeOptions()

    def _check_language(self, language: str | None) -> str | None:
        if language in (None, "", "auto"):
            return None
        code = language.strip().lower()
        known = self.languages or ()
        if code not in known:
            raise BadArgs(f"the faster-whisper model {self.model_id} does not know the "
                          f"language {language!r}; it knows {len(known)} languages "
                          f"({', '.join(known[:12])}, ...); leave it empty to detect")
        return code

    def transcribe(self, audio: np.ndarray, *, language: str | None = None,
                   word_timestamps: bool = False) -> Transcript:
        samples = np.asarray(audio, dtype=np.float32).reshape(-1)
        duration = len(samples) / SAMPLE_RATE
        lang = self._check_language(language) or self.language
        if duration < _MIN_SECONDS or float(np.max(np.abs(samples))) < SILENCE_PEAK:
            return Transcript("", lang, None, ())
        o = self.options
        segments, info = self._model.transcribe(
            samples, language=lang, beam_size=o.beam_size, temperature=list(o.temperatures),
            condition_on_previous_text=False, vad_filter=o.vad,
            word_timestamps=word_timestamps, max_new_tokens=max_new_tokens(duration))
        kept = [s for s in segments if s.start < duration]  # never past the audio's end
        text = " ".join("".join(s.text for s in kept).split())
        words = tuple(_words(kept, duration)) if word_timestamps else ()
        return Transcript(text, info.language, _confidence(kept) if text else None, words)


def known_languages(model: Any) -> tuple[str, ...]:
    """The model's languages: faster-whisper lists all 100 codes, but only large-v3 has the
    100th (Cantonese, ``yue``); the others have 99 language tokens."""
    codes = tuple(model.supported_languages)
    if model.model.is_multilingual:
        return codes[:model.model.num_languages]
    return codes


def max_new_tokens(duration: float) -> int:
    return min(_MAX_NEW_TOKENS, int(TOKENS_PER_SECOND * min(duration, 30.0)) + TOKENS_PER_SECOND)


def _words(segments: list[Any], duration: float) -> list[Word]:
    out = []
    for seg in segments:
        for w in seg.words or ():
            text = w.word.strip()
            if text and w.start < duration:
                out.append(Word(text, max(0.0, float(w.start)), min(float(w.end), duration),
                                min(1.0, max(0.0, float(w.probability)))))
    return out


def _confidence(segments: list[Any]) -> float | None:
    weights = [max(1, len(s.tokens)) for s in segments]
    if not weights:
        return None
    scores = [math.exp(min(0.0, s.avg_logprob)) * (1.0 - s.no_speech_prob) for s in segments]
    return float(sum(w * p for w, p in zip(weights, scores, strict=True)) / sum(weights))


# devices and loading ----------------------------------------------------------------
def parse_device(device: str | None) -> tuple[str, int]:
    """``cpu``, ``cuda``, ``cuda:N`` or ``auto`` -> (CTranslate2 device, index)."""
    import ctranslate2

    name = (device or "cpu").strip().lower()
    gpus = ctranslate2.get_cuda_device_count()
    if name == "auto":
        return ("cuda", 0) if gpus else ("cpu", 0)
    if name == "cpu":
        return "cpu", 0
    if name == "cuda" or name.startswith("cuda:"):
        index = int(name[5:]) if name[5:].isdigit() else 0
        if index >= gpus:
            raise BadArgs(f"device {device!r} was asked for but CTranslate2 sees "
                          f"{gpus} CUDA GPU(s); use cpu")
        return "cuda", index
    raise BadArgs(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N")


def choose_compute_type(device: str, index: int = 0) -> str:
    import ctranslate2

    supported = ctranslate2.get_supported_compute_types(device, index)
    wanted = CPU_COMPUTE if device == "cpu" else CUDA_COMPUTE
    return next((c for c in wanted if c in supported), "default")


def load_model(folder: Path, device: str, index: int, compute_type: str, *,
               in_memory: bool | None = None) -> Any:
    """Load with faster-whisper from a folder (never the hub). On Windows CTranslate2 cannot
    open a non-ASCII path: the folder's short (8.3) name is used, or failing that the files
    are read into memory and handed over as ``files``."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from faster_whisper import WhisperModel

    source, files = str(folder), None
    if in_memory is None:
        source = _loadable_path(folder)
        in_memory = not source.isascii() and sys.platform == "win32"
    if in_memory:
        files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
        source = "memory:" + folder.name
    threads = min(4, os.cpu_count() or 1) if device == "cpu" else 0
    try:
        return WhisperModel(source, device=device, device_index=index,
                            compute_type=compute_type, cpu_threads=threads, files=files)
    except (RuntimeError, ValueError, OSError) as exc:
        raise JobError(f"could not load the faster-whisper model in {folder} on {device} "
                       f"({compute_type}): {exc}") from exc


def _loadable_path(folder: Path) -> str:
    path = str(folder)
    if sys.platform != "win32" or path.isascii():
        return path
    import ctypes

    buf = ctypes.create_unicode_buffer(32768)
    n = ctypes.windll.kernel32.GetShortPathNameW(path, buf, len(buf))  # type: ignore[attr-defined]
    return buf.value if 0 < n < len(buf) and buf.value.isascii() else path
