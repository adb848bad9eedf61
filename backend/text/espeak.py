"""English phonemes from espeak-ng through ``phonemizer``, with the library and data that the
``espeakng-loader`` wheel carries (never a system espeak: Windows has none, and another
version would give other phonemes).

One backend per voice is made on first use and kept; espeak-ng is not thread-safe, so every
call holds one lock. ``phonemize`` takes many lines at once (one call for a whole table), and
remembers recent lines (the preview asks for the same text as the user types).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from backend.text.symbols import VITS_EN_PUNCTUATION

log = logging.getLogger(__name__)
_quiet = logging.getLogger(__name__ + ".phonemizer")  # its per-line warnings are noise here
_quiet.setLevel(logging.ERROR)

_lock = threading.Lock()
_backends: dict[str, Any] = {}
_cache: OrderedDict[tuple[str, str], str] = OrderedDict()
CACHE_SIZE = 4096


class EspeakUnavailable(RuntimeError):
    """phonemizer or espeakng-loader is missing or broken; the message says what to install."""


def library_paths() -> tuple[str, str]:
    """(library, data folder) of the espeak-ng that the espeakng-loader wheel carries."""
    try:
        import espeakng_loader
    except ImportError as exc:
        raise EspeakUnavailable("English phonemes need the espeakng-loader package, which is "
                                "not installed: pip install espeakng-loader") from exc
    return espeakng_loader.get_library_path(), espeakng_loader.get_data_path()


def _backend(voice: str) -> Any:
    if voice in _backends:
        return _backends[voice]
    library, data = library_paths()
    try:
        from phonemizer.backend import EspeakBackend
        from phonemizer.backend.espeak.wrapper import EspeakWrapper
    except ImportError as exc:
        raise EspeakUnavailable("English phonemes need the phonemizer package, which is not "
                                "installed: pip install phonemizer") from exc
    EspeakWrapper.set_library(library)
    EspeakWrapper.set_data_path(data)
    try:
        backend = EspeakBackend(voice, punctuation_marks=VITS_EN_PUNCTUATION,
                                preserve_punctuation=True, with_stress=True,
                                language_switch="remove-flags", logger=_quiet)
    except RuntimeError as exc:
        raise EspeakUnavailable(f"espeak-ng from espeakng-loader ({library}) cannot be used "
                                f"for voice {voice!r}: {exc}") from exc
    log.info("espeak-ng %s from %s", ".".join(map(str, backend.version())), library)
    _backends[voice] = backend
    return backend


def backend_library(voice: str = "en-us") -> str:
    """The espeak-ng library file the backend for ``voice`` uses."""
    with _lock:
        return str(_backend(voice)._espeak.library_path)


def phonemize(lines: Sequence[str], voice: str = "en-us") -> list[str]:
    """IPA with stress marks for each line (punctuation kept, whitespace collapsed)."""
    out: list[str | None] = []
    todo: dict[str, list[int]] = {}
    with _lock:
        for i, line in enumerate(lines):
            line = " ".join(line.split())
            hit = _cache.get((voice, line))
            if hit is not None or not line:
                if hit is not None:
                    _cache.move_to_end((voice, line))
                out.append(hit or "")
                continue
            out.append(None)
            todo.setdefault(line, []).append(i)
        if todo:
            texts = list(todo)
            results = _backend(voice).phonemize(texts, strip=True, njobs=1)
            for text, phones in zip(texts, results, strict=True):
                phones = " ".join(phones.split())
                for i in todo[text]:
                    out[i] = phones
                _cache[(voice, text)] = phones
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return [o or "" for o in out]
