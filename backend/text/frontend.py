"""The text front-end interface and the registry of front-ends by language.

A ``Frontend`` turns a text into a model's input symbols:
  ``language``  the language code it reads ("en", "zh", "ja")
  ``name``      stored with a model ("en-espeak-vits"): the same name means the same reading
  ``symbols``   the ordered symbol table (id = index; id 0 is the pad)
  ``normalize(text)``  the text as it will be spoken ("$5" -> "five dollars")
  ``to_symbols(text)`` the symbols (entries of ``symbols``)
  ``to_ids(text)``     their ids
  ``read(text)`` / ``read_many(texts)``  a ``Reading`` (normalized, phonemes, symbols, ids,
                 unsupported characters named with their index in the original text)

``get(language)`` returns the front-end for a language code (case and region ignored:
"EN-us" is "en"), or raises ``FrontendUnavailable`` saying why (no front-end for the
language, or a package it needs is not installed).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from backend.text.reading import Mapped, Reading, unsupported_at
from backend.text.symbols import symbol_ids

LANGUAGE_NAMES = {"en": "English", "zh": "Chinese", "ja": "Japanese", "ko": "Korean",
                  "yue": "Cantonese"}
DEFAULT_LANGUAGE = "en"


class FrontendUnavailable(Exception):
    """No usable front-end for a language; the message says why and what to do."""

    def __init__(self, message: str, language: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.language = language


class Frontend:
    """Base class: subclasses set the attributes and implement ``normalize_mapped``,
    ``readable`` and ``phonemize``."""

    language: str = ""
    name: str = ""
    title: str = ""
    symbols: tuple[str, ...] = ()
    # a pattern matching one character the front-end cannot read, when one can say so
    # (faster than asking ``readable`` character by character)
    unreadable_re: re.Pattern[str] | None = None

    def __init__(self) -> None:
        self._ids = symbol_ids(self.symbols)

    # -- what a subclass provides
    def normalize_mapped(self, text: str) -> Mapped:
        raise NotImplementedError

    def readable(self, ch: str) -> bool:
        if self.unreadable_re is None:
            raise NotImplementedError
        return self.unreadable_re.match(ch) is None

    def unreadable(self, text: str) -> list[int]:
        """Positions of the characters of a normalised text the front-end cannot read."""
        if self.unreadable_re is not None:
            return [m.start() for m in self.unreadable_re.finditer(text)]
        return [i for i, ch in enumerate(text) if not self.readable(ch)]

    def phonemize(self, lines: Sequence[str]) -> list[str]:
        """The phoneme string of each normalised (and cleaned) line."""
        raise NotImplementedError

    def split_symbols(self, phonemes: str) -> list[str]:
        """The phoneme string cut into symbols (one character each by default)."""
        return list(phonemes)

    # -- the interface
    def normalize(self, text: str) -> str:
        return self.normalize_mapped(text).text

    def to_symbols(self, text: str) -> list[str]:
        return self.read(text).symbols

    def to_ids(self, text: str) -> list[int]:
        return self.read(text).ids

    def symbol_id(self, symbol: str) -> int:
        return self._ids[symbol]

    def read(self, text: str) -> Reading:
        return self.read_many([text])[0]

    def read_many(self, texts: Sequence[str]) -> list[Reading]:
        """Readings of many texts, phonemised in one batch."""
        mapped = [self.normalize_mapped(t) for t in texts]
        bad = [self.unreadable(m.text) for m in mapped]
        phonemes = self.phonemize([_blank(m.text, b) for m, b in zip(mapped, bad, strict=True)])
        return [self._reading(t, m, p, b)
                for t, m, p, b in zip(texts, mapped, phonemes, bad, strict=True)]

    def _reading(self, text: str, m: Mapped, phonemes: str, bad: list[int]) -> Reading:
        symbols, unknown = [], []
        for s in self.split_symbols(phonemes):
            if s in self._ids:
                symbols.append(s)
            elif s not in unknown:
                unknown.append(s)
        return Reading(text=text, normalized=m.text, phonemes=phonemes, symbols=symbols,
                       ids=[self._ids[s] for s in symbols],
                       unsupported=unsupported_at(m, bad), unknown_symbols=unknown,
                       frontend=self.name, language=self.language)

    def describe(self) -> dict:
        return {"name": self.name, "language": self.language, "title": self.title,
                "symbols": len(self.symbols)}


def _blank(text: str, positions: list[int]) -> str:
    """``text`` with a space for each character at ``positions`` (what is not read)."""
    if not positions:
        return text
    chars = list(text)
    for i in positions:
        chars[i] = " "
    return "".join(chars)


_FACTORIES: dict[str, Callable[[], Frontend]] = {}
_made: dict[str, Frontend] = {}


def register(language: str, factory: Callable[[], Frontend]) -> None:
    _FACTORIES[language] = factory


def language_code(language: object) -> str:
    """"EN-us" -> "en", "zh_CN" -> "zh"; the empty string for nothing usable."""
    if not isinstance(language, str):
        return ""
    return language.strip().lower().replace("_", "-").split("-")[0]


def get(language: object) -> Frontend:
    """The front-end for ``language``; ``FrontendUnavailable`` says why there is none."""
    _load_builtin()
    code = language_code(language)
    if code in _made:
        return _made[code]
    if code not in _FACTORIES:
        known = ", ".join(f"{c} ({LANGUAGE_NAMES.get(c, c)})" for c in sorted(_FACTORIES))
        shown = LANGUAGE_NAMES.get(code, repr(language))
        raise FrontendUnavailable(f"there is no text front-end for {shown} yet; the "
                                  f"languages read are {known}", code)
    frontend = _FACTORIES[code]()  # raises FrontendUnavailable when a package is missing
    _made[code] = frontend
    return frontend


def languages() -> list[dict]:
    """Every registered language with its front-end, or the reason it is unavailable."""
    _load_builtin()
    out = []
    for code in sorted(_FACTORIES):
        try:
            out.append({"language": code, "available": True, **get(code).describe()})
        except FrontendUnavailable as exc:
            out.append({"language": code, "available": False, "message": exc.message})
    return out


def _load_builtin() -> None:
    if not _FACTORIES:
        from backend.text import chinese, english, japanese

        register("en", english.EnglishFrontend)
        register("zh", chinese.ChineseFrontend)
        register("ja", japanese.JapaneseFrontend)


def read(text: str, language: object = DEFAULT_LANGUAGE) -> Reading:
    """How the front-end of ``language`` reads ``text``."""
    return get(language).read(text)
