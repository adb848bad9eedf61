"""English: the normaliser of ``en_normalize``, espeak-ng phonemes (en-us, stress marks,
punctuation kept) and the original VITS symbol table, so the published English VITS models
and bases trained on them read the same ids."""

from __future__ import annotations

from collections.abc import Sequence

from backend.text import en_normalize, espeak
from backend.text.frontend import Frontend, FrontendUnavailable
from backend.text.reading import Mapped
from backend.text.symbols import VITS_EN


class EnglishFrontend(Frontend):
    language = "en"
    name = "en-espeak-vits"
    title = "English: espeak-ng phonemes, VITS symbols"
    symbols = VITS_EN
    voice = "en-us"
    unreadable_re = en_normalize.UNREADABLE_RE

    def __init__(self) -> None:
        super().__init__()
        try:
            espeak.library_paths()
        except espeak.EspeakUnavailable as exc:
            raise FrontendUnavailable(str(exc), self.language) from exc

    def normalize_mapped(self, text: str) -> Mapped:
        return en_normalize.normalize_mapped(text)

    def phonemize(self, lines: Sequence[str]) -> list[str]:
        try:
            return espeak.phonemize(lines, self.voice)
        except espeak.EspeakUnavailable as exc:
            raise FrontendUnavailable(str(exc), self.language) from exc
